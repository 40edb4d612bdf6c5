import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Context } from '../../src/context.js';
import { UnrecoverableError } from '../../src/lib/errors.js';
import { enqueueTask, type EnqueueTaskInput } from '../../src/modules/tasks/tasks.enqueue.js';
import { LeaseLostError } from '../../src/modules/tasks/tasks.errors.js';
import type { TaskHandler, TaskHandlers, TaskInvocation } from '../../src/modules/tasks/tasks.types.js';
import {
  createTaskWorker,
  type TaskWorker,
  type TaskWorkerOptions,
} from '../../src/modules/tasks/tasks.worker.js';
import { testDialects } from '../helpers/databases.js';
import { openTestContext, type TestContext } from '../helpers/test-context.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { readTask } from './task-support.js';

/** Resolves when `signal` aborts, rejecting with its reason, as a well-behaved handler would. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason as Error);
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });
}

const FAST_RETRIES = { baseMillis: 20, capMillis: 100 };

describe.each(testDialects)('task worker (%s)', (dialectName) => {
  let t: TestContext;
  let context: Context;
  let workers: TaskWorker[] = [];

  beforeAll(async () => {
    t = await openTestContext(dialectName);
    context = t.context;
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    await context.db.deleteFrom('tasks').execute();
  });
  afterEach(async () => {
    await Promise.all(workers.map((worker) => worker.stop({ timeoutMillis: 100 })));
    workers = [];
  });

  function startWorker(handlers: TaskHandlers, options: Partial<TaskWorkerOptions> = {}): TaskWorker {
    const worker = createTaskWorker({ context, handlers, retryPolicy: FAST_RETRIES, ...options });
    workers.push(worker);
    worker.start();
    return worker;
  }

  const enqueue = (input: Partial<EnqueueTaskInput> & { kind: string }) =>
    enqueueTask(context.db, context.clock, { appId: 1, payload: {}, ...input });

  const settled = (id: string) =>
    waitFor(
      () => readTask(context.db, id),
      (task) => task.status === 'completed' || task.status === 'failed',
      { what: `task ${id} to finish` },
    );

  it('runs a task to completion and hands its handler the parsed task', async () => {
    const seen: TaskInvocation[] = [];
    const worker = startWorker({
      echo: async ({ task, signal }) => {
        seen.push(task);
        expect(signal.aborted).toBe(false);
        return { result: { echoed: task.payload } };
      },
    });
    const queued = await enqueue({ kind: 'echo', appId: 7, payload: { channels: ['messaging:a'] } });
    const done = await settled(queued.id);
    expect(done).toMatchObject({ status: 'completed', attempt: 1, lease_owner: worker.id, error: null });
    expect(JSON.parse(done.result!)).toEqual({ echoed: { channels: ['messaging:a'] } });
    expect(seen).toEqual([
      {
        id: queued.id,
        appId: 7,
        kind: 'echo',
        payload: { channels: ['messaging:a'] },
        attempt: 1,
        checkpoint: null,
      },
    ]);
  });

  it('fails a task at once when its handler throws an UnrecoverableError', async () => {
    let calls = 0;
    startWorker({
      doomed: async () => {
        calls += 1;
        throw new UnrecoverableError('channel messaging:gone does not exist', 'channel_not_found');
      },
    });
    const queued = await enqueue({ kind: 'doomed', maxAttempts: 5 });
    const done = await settled(queued.id);
    expect(done).toMatchObject({ status: 'failed', attempt: 1 });
    expect(JSON.parse(done.error!)).toEqual({
      type: 'channel_not_found',
      description: 'channel messaging:gone does not exist',
    });
    expect(calls).toBe(1);
  });

  it('fails a task of a kind it has no handler for as unknown_kind', async () => {
    startWorker({});
    const queued = await enqueue({ kind: 'no-such-kind' });
    const done = await settled(queued.id);
    expect(done).toMatchObject({ status: 'failed', attempt: 1 });
    expect(JSON.parse(done.error!)).toMatchObject({ type: 'unknown_kind' });
  });

  it('retries a failing handler with backoff until it succeeds', async () => {
    const attempts: number[] = [];
    startWorker({
      flaky: async ({ task }) => {
        attempts.push(task.attempt);
        if (task.attempt < 3) throw new Error(`transient failure ${task.attempt}`);
        return { result: { attempt: task.attempt } };
      },
    });
    const queued = await enqueue({ kind: 'flaky', maxAttempts: 5 });
    const done = await settled(queued.id);
    expect(done).toMatchObject({ status: 'completed', attempt: 3, error: null });
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('hands the next attempt the checkpoint a failed one saved, stores progress, and clears the checkpoint on completion', async () => {
    const checkpoints: unknown[] = [];
    startWorker({
      resumable: async ({ task, saveProgress }) => {
        checkpoints.push(task.checkpoint);
        if (task.attempt === 1) {
          await saveProgress({ progress: { done: 1 }, checkpoint: { at: 'page 1' } });
          throw new Error('the database went away');
        }
        // Progress alone leaves the checkpoint as it was.
        await saveProgress({ progress: { done: 2 } });
        const row = await readTask(context.db, task.id);
        expect(JSON.parse(row.progress!)).toEqual({ done: 2 });
        expect(JSON.parse(row.checkpoint!)).toEqual({ at: 'page 1' });
        return { result: {} };
      },
    });
    const queued = await enqueue({ kind: 'resumable', maxAttempts: 3 });
    const done = await settled(queued.id);
    expect(done).toMatchObject({ status: 'completed', attempt: 2, checkpoint: null });
    expect(checkpoints).toEqual([null, { at: 'page 1' }]);
  });

  it('refuses progress from an attempt that lost its lease, aborting it', async () => {
    let refused: unknown;
    let abortedAfter: boolean | undefined;
    startWorker({
      stale: async ({ task, saveProgress, signal }) => {
        await context.db
          .updateTable('tasks')
          .set({ lease_owner: 'someone else' })
          .where('id', '=', task.id)
          .execute();
        const error = await saveProgress({ progress: { done: 1 } }).catch((failure: unknown) => failure);
        abortedAfter = signal.aborted;
        refused = error;
        throw error;
      },
    });
    const queued = await enqueue({ kind: 'stale' });
    await waitFor(
      () => Promise.resolve(refused),
      (error) => error !== undefined,
    );
    expect(refused).toBeInstanceOf(LeaseLostError);
    expect(abortedAfter).toBe(true);
    expect((await readTask(context.db, queued.id)).progress).toBeNull();
  });

  it('fails a task whose handler keeps failing once its attempts are used up', async () => {
    let calls = 0;
    startWorker({
      broken: async () => {
        calls += 1;
        throw new Error('connection refused to 10.0.0.7:5432\n    at Socket.connect (net.js:1)');
      },
    });
    const queued = await enqueue({ kind: 'broken', maxAttempts: 3 });
    const done = await settled(queued.id);
    expect(done).toMatchObject({ status: 'failed', attempt: 3 });
    expect(calls).toBe(3);
    expect(JSON.parse(done.error!)).toEqual({
      type: 'internal',
      description: 'internal error on attempt 3 of 3',
      detail: 'connection refused to 10.0.0.7:5432',
    });
  });

  it('runs at most `concurrency` tasks at once', async () => {
    let active = 0;
    let mostActive = 0;
    const slow: TaskHandler = async () => {
      active += 1;
      mostActive = Math.max(mostActive, active);
      await sleep(150);
      active -= 1;
      return { result: {} };
    };
    const queued = [];
    for (let i = 0; i < 5; i++) queued.push(await enqueue({ kind: 'slow' }));
    startWorker({ slow }, { concurrency: 2 });
    for (const task of queued) expect((await settled(task.id)).status).toBe('completed');
    expect(mostActive).toBe(2);
  });

  it('is woken by an enqueue instead of waiting for its next poll', async () => {
    const worker = startWorker({ quick: async () => ({ result: {} }) }, { pollMillis: 600_000 });
    // Let the first, empty claim finish so the worker is asleep for the long poll.
    await sleep(200);
    const queued = await enqueue({ kind: 'quick' });
    expect((await settled(queued.id)).status).toBe('completed');

    // Inside a transaction enqueueTask cannot wake anyone: the caller notifies after the commit.
    const inTransaction = await context.db
      .transaction()
      .execute((trx) => enqueueTask(trx, context.clock, { appId: 1, kind: 'quick', payload: {} }));
    await sleep(300);
    expect((await readTask(context.db, inTransaction.id)).status).toBe('waiting');
    worker.notify();
    expect((await settled(inTransaction.id)).status).toBe('completed');
  });

  it('keeps a long task’s lease by heartbeat while another worker reaps', async () => {
    let calls = 0;
    const long: TaskHandler = async () => {
      calls += 1;
      await sleep(3500);
      return { result: { done: true } };
    };
    const options = { leaseMillis: 1500, reapMillis: 50 };
    startWorker({ long }, options);
    startWorker({ long }, options);
    const queued = await enqueue({ kind: 'long' });
    const done = await settled(queued.id);
    expect(done).toMatchObject({ status: 'completed', attempt: 1 });
    expect(calls).toBe(1);
  });

  it('aborts a handler whose lease was lost, and records nothing from it', async () => {
    let abortReason: unknown;
    startWorker(
      {
        stubborn: async ({ signal }) => {
          try {
            await untilAborted(signal);
          } catch (error) {
            abortReason = error;
          }
          // A handler that carries on regardless must still not be able to publish.
          return { result: { published: true } };
        },
      },
      { leaseMillis: 600 },
    );
    const queued = await enqueue({ kind: 'stubborn' });
    await waitFor(
      () => readTask(context.db, queued.id),
      (task) => task.status === 'running',
    );
    // Another worker took the attempt over, as after a reap and a new claim.
    await context.db
      .updateTable('tasks')
      .set({ lease_owner: 'intruder', attempt: 2 })
      .where('id', '=', queued.id)
      .execute();
    await waitFor(
      () => abortReason,
      (reason) => reason !== undefined,
    );
    expect(abortReason).toBeInstanceOf(LeaseLostError);
    await sleep(200);
    expect(await readTask(context.db, queued.id)).toMatchObject({
      status: 'running',
      lease_owner: 'intruder',
      attempt: 2,
      result: null,
    });
  });

  it('stops gracefully: finishes the running task, then claims nothing more', async () => {
    let finished = 0;
    const worker = startWorker({
      // Well-behaved: it would give up if stop() aborted it instead of waiting for it.
      steady: async ({ signal }) => {
        await Promise.race([sleep(300), untilAborted(signal)]);
        finished += 1;
        return { result: { finished: true } };
      },
    });
    const first = await enqueue({ kind: 'steady' });
    await waitFor(
      () => readTask(context.db, first.id),
      (task) => task.status === 'running',
    );
    await worker.stop();
    expect(finished).toBe(1);
    expect((await readTask(context.db, first.id)).status).toBe('completed');

    const second = await enqueue({ kind: 'steady' });
    await sleep(300);
    expect((await readTask(context.db, second.id)).status).toBe('waiting');
  });

  it('aborts handlers that outlast the stop timeout, and the task runs again elsewhere', async () => {
    const hanging = startWorker({ job: async ({ signal }) => untilAborted(signal) });
    const queued = await enqueue({ kind: 'job' });
    await waitFor(
      () => readTask(context.db, queued.id),
      (task) => task.status === 'running',
    );
    await hanging.stop({ timeoutMillis: 50 });
    const interrupted = await readTask(context.db, queued.id);
    expect(interrupted).toMatchObject({ status: 'pending', attempt: 1, lease_expires_at: null });
    expect(JSON.parse(interrupted.error!)).toMatchObject({ type: 'worker_stopped' });

    startWorker({ job: async ({ task }) => ({ result: { attempt: task.attempt } }) });
    const done = await settled(queued.id);
    expect(done).toMatchObject({ status: 'completed', attempt: 2 });
  });
});
