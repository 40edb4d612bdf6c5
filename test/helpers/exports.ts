import type { StreamChat } from 'stream-chat';
import { expect } from 'vitest';

export interface TaskBody {
  task_id: string;
  status: string;
  created_at: string;
  updated_at: string;
  result?: Record<string, unknown> & { url?: string };
  error?: { type: string; description: string };
}

/** Polls `GET /tasks/{id}` until the task is completed or failed (generous time: machines are noisy). */
export async function waitForTask(
  client: StreamChat,
  taskId: string,
  timeoutMillis = 60_000,
): Promise<TaskBody> {
  const deadline = Date.now() + timeoutMillis;
  for (;;) {
    const task = (await client.getTask(taskId)) as unknown as TaskBody;
    if (task.status === 'completed' || task.status === 'failed') return task;
    if (Date.now() > deadline)
      throw new Error(`task ${taskId} still ${task.status} after ${timeoutMillis} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Runs a channel export through the SDK to completion and downloads its file. */
export async function exportAndDownload(
  client: StreamChat,
  channels: Array<Record<string, unknown>>,
  options: Record<string, unknown> = {},
): Promise<{ task: TaskBody; text: string }> {
  const { task_id } = await client.exportChannels(channels as never, options as never);
  expect(task_id).toMatch(/^[0-9a-f-]{36}$/);
  const task = await waitForTask(client, task_id);
  expect(task.status, JSON.stringify(task.error)).toBe('completed');
  const response = await fetch(task.result!.url!);
  expect(response.status).toBe(200);
  const text = await response.text();
  expect(Number(response.headers.get('content-length'))).toBe(Buffer.byteLength(text));
  expect(task.result!.size).toBe(Buffer.byteLength(text));
  return { task, text };
}

export interface V1Record {
  channel: Record<string, unknown>;
  members: Array<Record<string, unknown>>;
  messages: Array<Record<string, unknown> & { id: string; latest_reactions: Array<Record<string, unknown>> }>;
  users?: Array<Record<string, unknown>>;
}

export interface V2Line {
  type: string;
  data: Record<string, unknown>;
}

export function parseV2(text: string): V2Line[] {
  expect(text.endsWith('\n') || text === '').toBe(true);
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as V2Line);
}
