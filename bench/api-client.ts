/**
 * Talking to the server under test as a client would: the official stream-chat SDK for exports and
 * task status, and raw requests (with the same server token) where the SDK would add its own cost.
 */
import { SignJWT } from 'jose';
import { StreamChat } from 'stream-chat';

export interface App {
  id: number;
  apiKey: string;
  apiSecret: string;
}

export function sdkClient(app: App, baseURL: string): StreamChat {
  return new StreamChat(app.apiKey, app.apiSecret, { baseURL, timeout: 600_000 });
}

/** The headers and query a server-side request carries. */
export async function serverAuth(app: App): Promise<{ headers: Record<string, string>; query: string }> {
  const token = await new SignJWT({ server: true })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(app.apiSecret));
  return {
    headers: { authorization: token, 'stream-auth-type': 'jwt', 'content-type': 'application/json' },
    query: `api_key=${encodeURIComponent(app.apiKey)}`,
  };
}

export interface ExportRun {
  taskId: string;
  /** From sending the request to seeing `completed`. */
  millis: number;
  result: Record<string, unknown>;
  /** Round trips of GET /tasks/{id} while waiting, in ms. */
  statusMillis: number[];
}

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));

/** A running export's progress as GET /tasks/{id} reports it (ExportProgress). */
export interface ExportProgressSeen {
  messages_done: number;
  messages_total: number;
  bytes_written: number;
}

/**
 * POST /export_channels, then GET /tasks/{id} until completed: every `fastPollMillis` for the first
 * second, then every 50 ms (polling a long export faster would only take CPU from it). `onProgress`
 * sees each progress reported, with the milliseconds since the request.
 */
export async function runExport(
  client: StreamChat,
  cid: string,
  options: { version: 'v1' | 'v2'; export_users?: boolean },
  fastPollMillis = 5,
  onProgress?: (progress: ExportProgressSeen, millis: number) => void,
): Promise<ExportRun> {
  const [type, id] = cid.split(':') as [string, string];
  const started = performance.now();
  const { task_id: taskId } = await client.exportChannels([{ type, id }], options as never);
  const statusMillis: number[] = [];
  for (;;) {
    const asked = performance.now();
    const task = (await client.getTask(taskId)) as unknown as {
      status: string;
      result?: Record<string, unknown>;
      error?: unknown;
      progress?: ExportProgressSeen;
    };
    const now = performance.now();
    statusMillis.push(now - asked);
    if (task.progress && onProgress) onProgress(task.progress, now - started);
    if (task.status === 'completed')
      return { taskId, millis: now - started, result: task.result ?? {}, statusMillis };
    if (task.status === 'failed')
      throw new Error(`export ${taskId} of ${cid} failed: ${JSON.stringify(task.error)}`);
    await sleep(now - started < 1000 ? fastPollMillis : 50);
  }
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
