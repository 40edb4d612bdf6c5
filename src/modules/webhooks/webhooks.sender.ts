import crypto from 'node:crypto';
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { refusedAddressReason } from './webhooks.address-policy.js';

/** Stream's webhook signature: hex HMAC-SHA256 of the raw body under the app's secret. */
export function signWebhookBody(body: string, secret: string): string {
  return crypto.createHmac('sha256', secret).update(body).digest('hex');
}

export interface WebhookPost {
  url: string;
  /** The JSON body, sent byte for byte as signed. */
  body: string;
  /** Extra headers: the signature, webhook id, attempt and api key. */
  headers: Record<string, string>;
  /** The whole request, from resolving the name to the response's status line. */
  timeoutMillis: number;
  /** CHATPORT_WEBHOOK_ALLOW_PRIVATE: reach addresses refusedAddressReason would refuse. */
  allowPrivate: boolean;
  /** Aborts the request (the attempt's lease was lost, the worker stops). */
  signal: AbortSignal;
}

/**
 * How one attempt went: `delivered` (a 2xx answer), `failed` (timeout, connection error, any other
 * status: worth retrying) or `refused` (the target resolves to an address webhooks may not reach).
 */
export type WebhookPostResult =
  | { outcome: 'delivered'; status: number }
  | { outcome: 'failed'; status: number | null; error: string }
  | { outcome: 'refused'; status: null; error: string };

class AddressRefusedError extends Error {}

/**
 * Resolves a name once, checks every address it resolves to, and hands the socket only checked
 * addresses: the connection goes to what was checked, with no second lookup that a short-lived DNS
 * answer could rebind to an internal address.
 */
function checkedLookup(allowPrivate: boolean): net.LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { all: true, family: options.family, hints: options.hints }, (error, found) => {
      if (error) return callback(error, '');
      if (found.length === 0) {
        return callback(
          Object.assign(new Error(`${hostname} resolves to no address`), { code: 'ENOTFOUND' }),
          '',
        );
      }
      if (!allowPrivate) {
        for (const { address } of found) {
          const reason = refusedAddressReason(address);
          if (reason !== null) {
            return callback(
              new AddressRefusedError(`${hostname} resolves to ${address}, a ${reason} address`),
              '',
            );
          }
        }
      }
      if (options.all) return callback(null, found);
      callback(null, found[0]!.address, found[0]!.family);
    });
  };
}

/**
 * POSTs one webhook: never follows a redirect (a 3xx is a failure like any non-2xx), opens a fresh
 * connection, and resolves (never rejects) with how it went. Off `allowPrivate`, a literal address or
 * a name that resolves to a refused address is not contacted at all.
 */
export function postWebhook(post: WebhookPost): Promise<WebhookPostResult> {
  const target = new URL(post.url);
  const hostname = target.hostname.replace(/^\[|\]$/g, '');
  if (!post.allowPrivate && net.isIP(hostname) !== 0) {
    const reason = refusedAddressReason(hostname);
    if (reason !== null) {
      return Promise.resolve({
        outcome: 'refused',
        status: null,
        error: `${hostname} is a ${reason} address`,
      });
    }
  }
  if (post.signal.aborted) {
    return Promise.resolve({ outcome: 'failed', status: null, error: 'the attempt was stopped' });
  }
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: WebhookPostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      post.signal.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const request = client.request(
      target,
      {
        method: 'POST',
        agent: false,
        lookup: checkedLookup(post.allowPrivate),
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(post.body)),
          'user-agent': 'chatport-webhook',
          ...post.headers,
        },
      },
      (response) => {
        const status = response.statusCode ?? 0;
        // The body is not needed: read and dropped, so the connection closes cleanly.
        response.resume();
        if (status >= 200 && status < 300) return finish({ outcome: 'delivered', status });
        const redirect = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
        finish({ outcome: 'failed', status, error: `the receiver answered ${status}${redirect}` });
      },
    );
    const timer = setTimeout(() => {
      finish({ outcome: 'failed', status: null, error: `no answer within ${post.timeoutMillis} ms` });
      request.destroy();
    }, post.timeoutMillis);
    const onAbort = () => {
      finish({ outcome: 'failed', status: null, error: 'the attempt was stopped' });
      request.destroy();
    };
    post.signal.addEventListener('abort', onAbort);
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof AddressRefusedError) {
        return finish({ outcome: 'refused', status: null, error: error.message });
      }
      const code = error.code ? `${error.code}: ` : '';
      finish({ outcome: 'failed', status: null, error: `could not connect: ${code}${error.message}` });
    });
    request.end(post.body);
  });
}
