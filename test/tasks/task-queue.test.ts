import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Context } from '../../src/context.js';
import type { TaskRow } from '../../src/database/database.types.js';
import { createManualClock } from '../../src/lib/time.js';
import { claimTasks } from '../../src/modules/tasks/tasks.claim.js';
import { completeTask } from '../../src/modules/tasks/tasks.complete.js';
import { enqueueTask } from '../../src/modules/tasks/tasks.enqueue.js';
import { failTask } from '../../src/modules/tasks/tasks.fail.js';
import { extendLease } from '../../src/modules/tasks/tasks.heartbeat.js';
import { reapExpiredLeases } from '../../src/modules/tasks/tasks.reap.js';
import { nextAttemptAt, retryDelayMillis } from '../../src/modules/tasks/tasks.retry.js';
import { testDialects } from '../helpers/databases.js';
import { openTestContext, type TestContext } from '../helpers/test-context.js';
import { leaseOf, readTask, START_MICROS } from './task-support.js';

const LEASE_MILLIS = 1000;

// The queue's contract, run against every database: each SQL operation of the lease protocol.
describe.each(testDialects)('task queue (%s)', (dialectName) => {
  const clock = createManualClock(START_MICROS);
  let t: TestContext;
  let context: Context;

  beforeAll(async () => {
    t = await openTestContext(dialectName, { clock });
    context = t.context;
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    await context.db.deleteFrom('tasks').execute();
    clock.set(START_MICROS);
  });

  const enqueue = (kind = 'test', maxAttempts?: number) =>
    enqueueTask(context.db, clock, { appId: 1, kind, payload: { kind, n: 1 }, maxAttempts });
  const claim = (workerId: string, limit = 10) =>
    claimTasks(context.dialect, clock, { workerId, leaseMillis: LEASE_MILLIS, limit });
  const failAndRetry = (task: TaskRow) =>
    failTask(context.db, clock, leaseOf(task), {
      error: { type: 'internal', description: 'boom' },
      retryAt: nextAttemptAt({
        attempt: task.attempt,
        maxAttempts: task.max_attempts,
        retryable: true,
        nowMicros: clock.nowMicros(),
      }),
    });

  it('enqueues a waiting task that a claim starts as attempt 1 under the worker’s lease', async () => {
    const queued = await enqueue();
    expect(queued).toMatchObject({
      app_id: 1,
      kind: 'test',
      status: 'waiting',
      attempt: 0,
      max_attempts: 5,
      run_after: START_MICROS,
      created_at: START_MICROS,
      lease_owner: null,
      result: null,
      error: null,
    });
    expect(queued.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(JSON.parse(queued.payload)).toEqual({ kind: 'test', n: 1 });

    clock.advanceMillis(5);
    const now = clock.nowMicros();
    const [claimed, ...rest] = await claim('worker-1');
    expect(rest).toEqual([]);
    expect(claimed).toMatchObject({
      id: queued.id,
      status: 'running',
      attempt: 1,
      lease_owner: 'worker-1',
      lease_expires_at: now + LEASE_MILLIS * 1000,
      started_at: now,
      updated_at: now,
    });
    expect(await readTask(context.db, queued.id)).toEqual(claimed);
    expect(await claim('worker-2')).toEqual([]);
  });

  it('claims only due tasks, oldest first, up to its limit', async () => {
    const backingOff = await enqueue('backing-off');
    const [first] = await claim('worker-1', 1);
    expect(first?.id).toBe(backingOff.id);
    await failAndRetry(first!);
    clock.advanceMillis(1);
    const a = await enqueue('a');
    clock.advanceMillis(1);
    const b = await enqueue('b');
    clock.advanceMillis(1);
    const c = await enqueue('c');

    expect((await claim('worker-1', 2)).map((task) => task.id)).toEqual([a.id, b.id]);
    expect((await claim('worker-1', 5)).map((task) => task.id)).toEqual([c.id]);
    clock.advanceMillis(retryDelayMillis(1));
    const [retried] = await claim('worker-1', 5);
    expect(retried).toMatchObject({ id: backingOff.id, attempt: 2, status: 'running' });
  });

  it('never hands one task to two concurrent claimers', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 60; i++) ids.add((await enqueue()).id);
    // A second context is a second connection pool; on SQLite, Kysely's single connection already
    // serialises claims in one process (task-processes.test.ts runs claimers in separate processes).
    const other = dialectName === 'postgres' ? await t.openAnother() : context;
    const claimers = Array.from({ length: 24 }, (_, i) =>
      claimTasks((i % 2 ? other : context).dialect, clock, {
        workerId: `worker-${i}`,
        leaseMillis: LEASE_MILLIS,
        limit: 3,
      }),
    );
    const claimed = (await Promise.all(claimers)).flat();
    for (;;) {
      const more = await claim('sweeper', 7);
      if (more.length === 0) break;
      claimed.push(...more);
    }
    const claimedIds = claimed.map((task) => task.id);
    expect(new Set(claimedIds).size).toBe(claimedIds.length);
    expect(new Set(claimedIds)).toEqual(ids);
    const rows = await context.db.selectFrom('tasks').select(['status', 'attempt']).execute();
    expect(rows.every((row) => row.status === 'running' && row.attempt === 1)).toBe(true);
  });

  it('reaps an expired lease back to pending, and the next claim starts attempt 2', async () => {
    const queued = await enqueue();
    const [first] = await claim('worker-1');
    clock.advanceMillis(LEASE_MILLIS);
    expect(await reapExpiredLeases(context.db, clock)).toEqual({ retried: 0, failed: 0 });

    clock.advanceMillis(1);
    expect(await reapExpiredLeases(context.db, clock)).toEqual({ retried: 1, failed: 0 });
    const reaped = await readTask(context.db, queued.id);
    expect(reaped).toMatchObject({
      status: 'pending',
      attempt: 1,
      lease_expires_at: null,
      run_after: clock.nowMicros() + retryDelayMillis(1) * 1000,
      finished_at: null,
    });
    expect(JSON.parse(reaped.error!)).toMatchObject({ type: 'lease_expired' });
    expect(await claim('worker-2')).toEqual([]);

    clock.advanceMillis(retryDelayMillis(1));
    const [second] = await claim('worker-2');
    expect(second).toMatchObject({ id: queued.id, status: 'running', attempt: 2, lease_owner: 'worker-2' });
    expect(first!.attempt).toBe(1);
  });

  it('lets a stale attempt neither heartbeat, complete nor fail, and changes nothing', async () => {
    await enqueue();
    const [stale] = await claim('worker-1');
    clock.advanceMillis(LEASE_MILLIS + 1);
    await reapExpiredLeases(context.db, clock);
    clock.advanceMillis(retryDelayMillis(1));
    const [current] = await claim('worker-2');
    const before = await readTask(context.db, current!.id);

    const staleLease = leaseOf(stale!);
    const impostor = { ...leaseOf(current!), owner: 'worker-1' };
    for (const lease of [staleLease, impostor]) {
      expect(await extendLease(context.db, clock, lease, LEASE_MILLIS)).toBe(false);
      expect(await completeTask(context.db, clock, lease, { result: { stale: true } })).toBe(false);
      expect(
        await failTask(context.db, clock, lease, {
          error: { type: 'internal', description: 'stale' },
          retryAt: null,
        }),
      ).toBe(false);
    }
    expect(await readTask(context.db, current!.id)).toEqual(before);

    expect(await completeTask(context.db, clock, leaseOf(current!), { result: { ok: 1 } })).toBe(true);
    const finished = await readTask(context.db, current!.id);
    expect(finished.status).toBe('completed');
    // Once finished, even the attempt that finished it can write nothing more.
    expect(await extendLease(context.db, clock, leaseOf(current!), LEASE_MILLIS)).toBe(false);
    expect(await completeTask(context.db, clock, leaseOf(current!), { result: { again: 1 } })).toBe(false);
    expect(await readTask(context.db, current!.id)).toEqual(finished);
  });

  it('keeps a lease the worker renews out of the reaper’s reach', async () => {
    await enqueue();
    const [task] = await claim('worker-1');
    clock.advanceMillis(LEASE_MILLIS * 0.8);
    expect(await extendLease(context.db, clock, leaseOf(task!), LEASE_MILLIS)).toBe(true);
    expect((await readTask(context.db, task!.id)).lease_expires_at).toBe(
      clock.nowMicros() + LEASE_MILLIS * 1000,
    );
    clock.advanceMillis(LEASE_MILLIS * 0.8);
    expect(await reapExpiredLeases(context.db, clock)).toEqual({ retried: 0, failed: 0 });
    expect((await readTask(context.db, task!.id)).status).toBe('running');
  });

  it('delays each retry by the exponential backoff', async () => {
    const queued = await enqueue('flaky', 4);
    for (let attempt = 1; attempt <= 3; attempt++) {
      const [task] = await claim('worker-1');
      expect(task).toMatchObject({ id: queued.id, attempt });
      expect(await failAndRetry(task!)).toBe(true);
      const pending = await readTask(context.db, queued.id);
      expect(pending.status).toBe('pending');
      expect(pending.run_after - clock.nowMicros()).toBe(1000 * 2 ** (attempt - 1) * 1000);
      clock.advanceMillis(retryDelayMillis(attempt) - 1);
      expect(await claim('worker-1')).toEqual([]);
      clock.advanceMillis(1);
    }
    const [last] = await claim('worker-1');
    expect(last?.attempt).toBe(4);
  });

  it('fails a task for good once its attempts are used up', async () => {
    const queued = await enqueue('doomed', 2);
    const [first] = await claim('worker-1');
    await failAndRetry(first!);
    clock.advanceMillis(retryDelayMillis(1));
    const [second] = await claim('worker-1');
    expect(await failAndRetry(second!)).toBe(true);
    const failed = await readTask(context.db, queued.id);
    expect(failed).toMatchObject({
      status: 'failed',
      attempt: 2,
      finished_at: clock.nowMicros(),
      lease_expires_at: null,
    });
    expect(JSON.parse(failed.error!)).toEqual({ type: 'internal', description: 'boom' });
    clock.advanceMillis(3_600_000);
    expect(await claim('worker-1')).toEqual([]);
  });

  it('fails at once, attempts left or not, when the failure cannot be retried', async () => {
    const queued = await enqueue('hopeless', 5);
    const [task] = await claim('worker-1');
    const retryAt = nextAttemptAt({ attempt: 1, maxAttempts: 5, retryable: false, nowMicros: 0 });
    const error = { type: 'channel_not_found', description: 'channel messaging:gone does not exist' };
    expect(await failTask(context.db, clock, leaseOf(task!), { error, retryAt })).toBe(true);
    const failed = await readTask(context.db, queued.id);
    expect(failed).toMatchObject({ status: 'failed', attempt: 1 });
    expect(JSON.parse(failed.error!)).toEqual(error);
  });

  it('fails a task whose last attempt’s lease expired as lease_expired', async () => {
    const queued = await enqueue('last-chance', 1);
    await claim('worker-1');
    clock.advanceMillis(LEASE_MILLIS + 1);
    expect(await reapExpiredLeases(context.db, clock)).toEqual({ retried: 0, failed: 1 });
    const failed = await readTask(context.db, queued.id);
    expect(failed).toMatchObject({ status: 'failed', attempt: 1, finished_at: clock.nowMicros() });
    expect(JSON.parse(failed.error!)).toMatchObject({ type: 'lease_expired' });
  });

  it('completes a task with its result and the file it published', async () => {
    const queued = await enqueue('export');
    const [task] = await claim('worker-1');
    clock.advanceMillis(50);
    const file = { key: 'exports/1/file.json', expiresAt: clock.nowMicros() + 1_000_000 };
    expect(await completeTask(context.db, clock, leaseOf(task!), { result: { url: 'x', n: 2 }, file })).toBe(
      true,
    );
    const completed = await readTask(context.db, queued.id);
    expect(completed).toMatchObject({
      status: 'completed',
      attempt: 1,
      error: null,
      file_key: file.key,
      file_expires_at: file.expiresAt,
      file_deleted_at: null,
      finished_at: clock.nowMicros(),
      updated_at: clock.nowMicros(),
      lease_expires_at: null,
    });
    expect(JSON.parse(completed.result!)).toEqual({ url: 'x', n: 2 });
  });
});
