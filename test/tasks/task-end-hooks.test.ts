import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Context } from '../../src/context.js';
import { UnrecoverableError } from '../../src/lib/errors.js';
import { createManualClock, createSystemClock } from '../../src/lib/time.js';
import { claimTasks } from '../../src/modules/tasks/tasks.claim.js';
import { completeTask } from '../../src/modules/tasks/tasks.complete.js';
import { createTaskEnder } from '../../src/modules/tasks/tasks.end.js';
import { enqueueTask, insertTask } from '../../src/modules/tasks/tasks.enqueue.js';
import { reapExpiredLeases } from '../../src/modules/tasks/tasks.reap.js';
import type { EndedTask, TaskEndHook, TaskHandler } from '../../src/modules/tasks/tasks.types.js';
import { createTaskWorker } from '../../src/modules/tasks/tasks.worker.js';
import { testDialects } from '../helpers/databases.js';
import { openTestContext, type TestContext } from '../helpers/test-context.js';
import { waitFor } from '../helpers/wait.js';
import { leaseOf, readTask, START_MICROS } from './task-support.js';

/**
 * A hook on kind `watched` that records what it is told and writes a `marker` task in the ending
 * transaction: the marker exists exactly when the hook's transaction committed.
 */
function recordingHook(seen: EndedTask[], { failTimes = 0 } = {}): TaskEndHook {
  let failures = 0;
  return {
    kinds: ['watched'],
    async onEnd({ db, context, task }) {
      await insertTask(db, context.clock, { appId: task.appId, kind: 'marker', payload: { of: task.id } });
      if (failures < failTimes) {
        failures += 1;
        throw new Error('the hook failed');
      }
      seen.push(task);
    },
  };
}

async function markersOf(context: Context, taskId: string) {
  const rows = await context.db.selectFrom('tasks').select('payload').where('kind', '=', 'marker').execute();
  return rows.filter((row) => (JSON.parse(row.payload) as { of: string }).of === taskId);
}

describe.each(testDialects)('task end hooks (%s)', (dialect) => {
  let t: TestContext;
  let context: Context;

  beforeAll(async () => {
    t = await openTestContext(dialect, { clock: createSystemClock() });
    context = t.context;
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    await context.db.deleteFrom('tasks').execute();
  });

  /** Runs `handler` for kind `watched` (and `unwatched`) with `hook` until `taskId` is final. */
  async function runWithWorker(hook: TaskEndHook, handler: TaskHandler, taskId: string) {
    const worker = createTaskWorker({
      context,
      handlers: { watched: handler, unwatched: handler },
      endHooks: [hook],
      pollMillis: 20,
      retryPolicy: { baseMillis: 10, capMillis: 10 },
    });
    worker.start();
    try {
      return await waitFor(
        () => readTask(context.db, taskId),
        (task) => task.status === 'completed' || task.status === 'failed',
      );
    } finally {
      await worker.stop();
    }
  }

  it('runs when a task completes, and what it writes commits with the completion', async () => {
    const seen: EndedTask[] = [];
    const task = await enqueueTask(context.db, context.clock, { appId: 7, kind: 'watched', payload: {} });
    const ended = await runWithWorker(recordingHook(seen), async () => ({ result: { rows: 3 } }), task.id);
    expect(ended.status).toBe('completed');
    expect(seen).toEqual([
      expect.objectContaining({
        id: task.id,
        appId: 7,
        kind: 'watched',
        status: 'completed',
        result: { rows: 3 },
      }),
    ]);
    expect(seen[0]!.finishedAt).toBeGreaterThanOrEqual(seen[0]!.startedAt!);
    expect(await markersOf(context, task.id)).toHaveLength(1);
  });

  it('rolls the completion back when it throws: the attempt is retried, and only the end that committed wrote', async () => {
    const seen: EndedTask[] = [];
    const task = await enqueueTask(context.db, context.clock, { appId: 7, kind: 'watched', payload: {} });
    const ended = await runWithWorker(
      recordingHook(seen, { failTimes: 1 }),
      async () => ({ result: {} }),
      task.id,
    );
    expect(ended).toMatchObject({ status: 'completed', attempt: 2 });
    expect(seen).toHaveLength(1);
    expect(await markersOf(context, task.id)).toHaveLength(1);
  });

  it('does not run for a failure that will be retried, and runs with the error for the final one', async () => {
    const seen: EndedTask[] = [];
    const task = await enqueueTask(context.db, context.clock, {
      appId: 7,
      kind: 'watched',
      payload: {},
      maxAttempts: 3,
    });
    const ended = await runWithWorker(
      recordingHook(seen),
      async () => {
        throw new Error('always');
      },
      task.id,
    );
    expect(ended).toMatchObject({ status: 'failed', attempt: 3 });
    expect(seen).toEqual([
      expect.objectContaining({
        id: task.id,
        status: 'failed',
        error: { type: 'internal', description: 'internal error on attempt 3 of 3' },
      }),
    ]);
    expect(await markersOf(context, task.id)).toHaveLength(1);
  });

  it('runs for an unrecoverable error, and never for kinds it does not watch', async () => {
    const seen: EndedTask[] = [];
    const failing = await enqueueTask(context.db, context.clock, { appId: 7, kind: 'watched', payload: {} });
    const other = await enqueueTask(context.db, context.clock, { appId: 7, kind: 'unwatched', payload: {} });
    const handler: TaskHandler = async ({ task }) => {
      if (task.kind === 'watched') throw new UnrecoverableError('cannot', 'gone');
      return { result: {} };
    };
    await runWithWorker(recordingHook(seen), handler, failing.id);
    await runWithWorker(recordingHook(seen), handler, other.id);
    expect(seen).toEqual([
      expect.objectContaining({ id: failing.id, error: { type: 'gone', description: 'cannot' } }),
    ]);
  });

  it('runs when the reaper fails a task whose last attempt’s worker died', async () => {
    const clock = createManualClock(START_MICROS);
    const seen: EndedTask[] = [];
    const task = await enqueueTask(context.db, clock, {
      appId: 7,
      kind: 'watched',
      payload: {},
      maxAttempts: 1,
    });
    await claimTasks(context.dialect, clock, { workerId: 'dead', leaseMillis: 1000, limit: 1 });
    clock.advanceMillis(2000);
    const endTask = createTaskEnder({ ...context, clock }, [recordingHook(seen)]);
    expect(await reapExpiredLeases(context.db, clock, { endTask })).toEqual({ retried: 0, failed: 1 });
    expect(seen).toEqual([
      expect.objectContaining({
        id: task.id,
        status: 'failed',
        error: expect.objectContaining({ type: 'lease_expired' }),
      }),
    ]);
    expect(await markersOf(context, task.id)).toHaveLength(1);
  });

  it('does not run for an attempt that lost its lease', async () => {
    const clock = createManualClock(START_MICROS);
    const seen: EndedTask[] = [];
    await enqueueTask(context.db, clock, { appId: 7, kind: 'watched', payload: {} });
    const [claimed] = await claimTasks(context.dialect, clock, {
      workerId: 'slow',
      leaseMillis: 1000,
      limit: 1,
    });
    clock.advanceMillis(2000);
    await reapExpiredLeases(context.db, clock);
    const endTask = createTaskEnder({ ...context, clock }, [recordingHook(seen)]);
    const won = await endTask('watched', async (db) =>
      (await completeTask(db, clock, leaseOf(claimed!), { result: {} })) ? ({} as EndedTask) : null,
    );
    expect(won).toBe(false);
    expect(seen).toEqual([]);
    expect(await markersOf(context, claimed!.id)).toHaveLength(0);
    expect((await readTask(context.db, claimed!.id)).status).toBe('pending');
  });
});
