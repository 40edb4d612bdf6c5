import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TaskRow } from '../../src/database/database.types.js';
import { UnrecoverableError } from '../../src/lib/errors.js';
import { enqueueTask } from '../../src/modules/tasks/tasks.enqueue.js';
import { presentTaskStatus } from '../../src/modules/tasks/tasks.presenter.js';
import type { TaskHandlers, TaskPresenter, TaskStatusRow } from '../../src/modules/tasks/tasks.types.js';
import { createTaskWorker, type TaskWorker } from '../../src/modules/tasks/tasks.worker.js';
import { testDialects } from '../helpers/databases.js';
import { rawRequest, signToken } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';
import { START_MICROS } from './task-support.js';

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

const handlers: TaskHandlers = {
  echo: async ({ task }) => ({ result: { echoed: task.payload, attempt: task.attempt } }),
  'internal-failure': async () => {
    throw new Error('password authentication failed for user "chatport"');
  },
  'channel-gone': async () => {
    throw new UnrecoverableError('channel messaging:gone does not exist', 'channel_not_found');
  },
};

/** The SDK's rejection of a failed call, with the status and Stream code it carries. */
async function rejectionOf(call: Promise<unknown>): Promise<{ status?: number; code?: number | null }> {
  try {
    await call;
  } catch (error) {
    return error as { status?: number; code?: number | null };
  }
  throw new Error('expected the call to fail');
}

describe.each(testDialects)('GET /tasks/{id} (%s)', (dialectName) => {
  let t: TestServer;
  let appId: number;
  let worker: TaskWorker | undefined;

  beforeAll(async () => {
    // No in-process worker: the tests decide when tasks run, so a waiting task stays waiting.
    t = await startTestServer(dialectName, { env: { CHATPORT_WORKER: 'false' } });
    appId = t.app.id;
  });
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
  });
  afterAll(() => t.close());

  const enqueue = (kind: string, maxAttempts?: number) =>
    enqueueTask(t.server.context.db, t.server.context.clock, {
      appId,
      kind,
      payload: { cids: ['messaging:a'] },
      maxAttempts,
    });

  async function runToEnd(taskId: string) {
    worker = createTaskWorker({ context: t.server.context, handlers });
    worker.start();
    await waitFor(
      () => t.app.client.getTask(taskId),
      (status) => status.status === 'completed' || status.status === 'failed',
    );
  }

  it('answers a waiting task with its status and times, and neither result nor error', async () => {
    const task = await enqueue('echo');
    const status = await t.app.client.getTask(task.id);
    expect(status).toMatchObject({ task_id: task.id, status: 'waiting' });
    expect(status.created_at).toMatch(TIMESTAMP);
    expect(status.updated_at).toMatch(TIMESTAMP);
    expect(status.duration).toMatch(/^\d+\.\d{2}ms$/);
    expect(status).not.toHaveProperty('result');
    expect(status).not.toHaveProperty('error');
  });

  it('answers a completed task with its result', async () => {
    const task = await enqueue('echo');
    await runToEnd(task.id);
    const status = await t.app.client.getTask(task.id);
    expect(status).toMatchObject({
      task_id: task.id,
      status: 'completed',
      result: { echoed: { cids: ['messaging:a'] }, attempt: 1 },
    });
    expect(status).not.toHaveProperty('error');
    expect(Date.parse(status.updated_at)).toBeGreaterThanOrEqual(Date.parse(status.created_at));
  });

  it('answers a failed task with the error’s type and description only', async () => {
    const task = await enqueue('channel-gone');
    await runToEnd(task.id);
    const status = await t.app.client.getTask(task.id);
    expect(status).toMatchObject({
      status: 'failed',
      error: { type: 'channel_not_found', description: 'channel messaging:gone does not exist' },
    });
    expect(status).not.toHaveProperty('result');
  });

  it('never shows an internal error’s message', async () => {
    const task = await enqueue('internal-failure', 1);
    await runToEnd(task.id);
    const status = await t.app.client.getTask(task.id);
    expect(status.status).toBe('failed');
    expect(status.error).toEqual({ type: 'internal', description: 'internal error on attempt 1 of 1' });
    expect(JSON.stringify(status)).not.toContain('password');
  });

  it('answers an unknown id with 404 code 16', async () => {
    const error = await rejectionOf(t.app.client.getTask('00000000-0000-4000-8000-000000000000'));
    expect(error).toMatchObject({ status: 404, code: 16 });
  });

  it('refuses a user token with 403 code 17: task status is server-side only', async () => {
    const task = await enqueue('echo');
    const token = await signToken(t.app.apiSecret, { user_id: 'u1' });
    const response = await rawRequest(t.baseURL, 'GET', `/tasks/${task.id}`, { apiKey: t.app.apiKey, token });
    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ code: 17 });
  });

  it('answers another app’s task with 404 code 16, as if it did not exist', async () => {
    const task = await enqueue('echo');
    const other = await t.createTestApp('other');
    const error = await rejectionOf(other.client.getTask(task.id));
    expect(error).toMatchObject({ status: 404, code: 16 });
    expect((await t.app.client.getTask(task.id)).task_id).toBe(task.id);
  });
});

describe.each(testDialects)('the server’s in-process worker (%s)', (dialectName) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(dialectName, { taskHandlers: handlers });
  });
  afterAll(() => t.close());

  it('runs a task enqueued in the server process with the handlers the runtime was given', async () => {
    const task = await enqueueTask(t.server.context.db, t.server.context.clock, {
      appId: t.app.id,
      kind: 'echo',
      payload: { hello: 'world' },
    });
    const status = await waitFor(
      () => t.app.client.getTask(task.id),
      (answer) => answer.status === 'completed',
    );
    expect(status.result).toEqual({ echoed: { hello: 'world' }, attempt: 1 });
  });
});

describe('task status presentation', () => {
  const row: TaskRow = {
    id: 'task-1',
    app_id: 1,
    kind: 'export-channels',
    status: 'completed',
    payload: '{}',
    result: '{"url":"stored"}',
    error: null,
    attempt: 1,
    max_attempts: 5,
    run_after: START_MICROS,
    lease_owner: 'w',
    lease_expires_at: null,
    created_at: START_MICROS,
    updated_at: START_MICROS + 1,
    started_at: START_MICROS,
    finished_at: START_MICROS + 1,
    file_key: 'exports/1/task-1.json',
    file_expires_at: START_MICROS + 10,
    file_deleted_at: null,
    capped: 1,
    progress: null,
    checkpoint: null,
  };
  const presentation = {} as Parameters<TaskPresenter>[1];

  it('renders a completed task’s result through the presenter of its kind, on every call', async () => {
    let calls = 0;
    const presenters = {
      'export-channels': (task: TaskStatusRow) => ({ url: `signed:${task.file_key}:${++calls}` }),
    };
    const first = await presentTaskStatus(row, presenters, presentation);
    const second = await presentTaskStatus(row, presenters, presentation);
    expect(first).toEqual({
      task_id: 'task-1',
      status: 'completed',
      created_at: '2024-01-01T00:00:00.000000Z',
      updated_at: '2024-01-01T00:00:00.000001Z',
      result: { url: 'signed:exports/1/task-1.json:1' },
    });
    expect(second.result).toEqual({ url: 'signed:exports/1/task-1.json:2' });
  });

  it('serves the stored result for kinds without a presenter, and no presenter runs unless completed', async () => {
    expect((await presentTaskStatus({ ...row, kind: 'delete-users' }, {}, presentation)).result).toEqual({
      url: 'stored',
    });
    const presenters = {
      'export-channels': () => {
        throw new Error('must not be called for a running task');
      },
    };
    const running = await presentTaskStatus({ ...row, status: 'running' }, presenters, presentation);
    expect(running).not.toHaveProperty('result');
    expect(running).not.toHaveProperty('error');
  });
});
