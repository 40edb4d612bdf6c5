import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamChat } from 'stream-chat';

/** One request the receiver got, with its signature checked by the `stream-chat` SDK. */
export interface ReceivedWebhook {
  path: string;
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  body: Record<string, unknown> & { type: string; task_id: string };
  /** `client.verifyWebhook(rawBody, x-signature)` under the secret of the app named by X-Api-Key. */
  signatureValid: boolean;
  /** The status the receiver answered (0: it never answered, the sender gave up first). */
  answeredWith: number;
}

/** What the receiver does with a request: answer `status`, after `delayMillis` or once `held` settles. */
export interface ReceiverAnswer {
  status: number;
  delayMillis?: number;
  held?: Promise<void>;
  headers?: Record<string, string>;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>`; hooks add a path per test to tell their requests apart. */
  url: string;
  received: ReceivedWebhook[];
  /** The requests that came to `path`. */
  at(path: string): ReceivedWebhook[];
  /** Answers for the next requests to `path`, in order; after them, 200. */
  script(path: string, answers: ReceiverAnswer[]): void;
  close(): Promise<void>;
}

/**
 * A real HTTP receiver on loopback that verifies every request's signature the way Stream's docs tell
 * receivers to (the SDK's verifyWebhook over the raw body) and records every attempt.
 */
export async function startWebhookReceiver(secrets: Map<string, string>): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const scripts = new Map<string, ReceiverAnswer[]>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const path = request.url ?? '/';
      const apiKey = String(request.headers['x-api-key'] ?? '');
      const secret = secrets.get(apiKey);
      const signature = String(request.headers['x-signature'] ?? '');
      const signatureValid =
        secret !== undefined && new StreamChat(apiKey, secret).verifyWebhook(rawBody, signature);
      const answer = scripts.get(path)?.shift() ?? { status: 200 };
      const record: ReceivedWebhook = {
        path,
        headers: request.headers,
        rawBody,
        body: JSON.parse(rawBody) as ReceivedWebhook['body'],
        signatureValid,
        answeredWith: 0,
      };
      received.push(record);
      const reply = () => {
        if (response.destroyed) return;
        record.answeredWith = answer.status;
        response.writeHead(answer.status, answer.headers).end('ok');
      };
      if (answer.held) void answer.held.then(reply);
      else if (answer.delayMillis) setTimeout(reply, answer.delayMillis);
      else reply();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    at: (path) => received.filter((request) => request.path === path),
    script: (path, answers) => scripts.set(path, [...answers]),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
