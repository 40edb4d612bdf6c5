import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Context } from '../../src/context.js';
import { createManualClock } from '../../src/lib/time.js';
import { claimTasks } from '../../src/modules/tasks/tasks.claim.js';
import { completeTask } from '../../src/modules/tasks/tasks.complete.js';
import { enqueueTask } from '../../src/modules/tasks/tasks.enqueue.js';
import { startTaskWorker } from '../../src/runtime.js';
import { testDialects } from '../helpers/databases.js';
import { waitForTask } from '../helpers/exports.js';
import { openTestContext, type TestContext } from '../helpers/test-context.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { leaseOf, START_MICROS } from './task-support.js';

// How the queue shares workers between apps, on every database: the claim's fair share.
describe.each(testDialects)('fair claiming between apps (%s)', (dialectName) => {
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

  /** Queues `count` tasks for `appId`, a millisecond apart, so each is younger than the last. */
  async function queue(appId: number, count: number) {
    for (let i = 0; i < count; i++) {
      await enqueueTask(context.db, clock, { appId, kind: 'work', payload: { appId, i } });
      clock.advanceMillis(1);
    }
  }
  const claim = (limit: number, workerId = 'worker') =>
    claimTasks(context.dialect, clock, { workerId, leaseMillis: 60_000, limit });

  it('gives an app that queued one task a worker beside an app that queued hundreds before it', async () => {
    await queue(1, 200);
    await queue(2, 1);
    const claimed = await claim(2);
    expect(claimed.map((task) => task.app_id).sort()).toEqual([1, 2]);
  });

  it('serves first the apps with fewer tasks running, whatever the age of their tasks', async () => {
    await queue(1, 50);
    expect((await claim(2)).map((task) => task.app_id)).toEqual([1, 1]);
    await queue(2, 3);
    // App 1 runs two and app 2 none: app 2 gets the next two places before app 1 gets a third.
    expect((await claim(1)).map((task) => task.app_id)).toEqual([2]);
    expect((await claim(1)).map((task) => task.app_id)).toEqual([2]);
    expect((await claim(3)).map((task) => task.app_id)).toEqual([1, 2, 1]);
  });

  it('lets apps take turns for a single worker slot, each app’s tasks oldest first', async () => {
    await queue(1, 6);
    await queue(2, 3);
    await queue(3, 3);
    const order: string[] = [];
    for (;;) {
      const [task] = await claim(1);
      if (!task) break;
      order.push(`${task.app_id}:${(JSON.parse(task.payload) as { i: number }).i}`);
      clock.advanceMillis(1);
      expect(await completeTask(context.db, clock, leaseOf(task), { result: {} })).toBe(true);
    }
    expect(order).toEqual([
      '1:0',
      '2:0',
      '3:0',
      '1:1',
      '2:1',
      '3:1',
      '1:2',
      '2:2',
      '3:2',
      '1:3',
      '1:4',
      '1:5',
    ]);
  });

  it('still hands each task to one claimer only when many claim for many apps at once', async () => {
    for (let i = 0; i < 20; i++) for (const appId of [1, 2, 3]) await queue(appId, 1);
    const other = dialectName === 'postgres' ? await t.openAnother({ clock }) : context;
    const claimers = Array.from({ length: 24 }, (_, i) =>
      claimTasks((i % 2 ? other : context).dialect, clock, {
        workerId: `worker-${i}`,
        leaseMillis: 60_000,
        limit: 3,
      }),
    );
    const claimed = (await Promise.all(claimers)).flat();
    for (;;) {
      const more = await claim(7, 'sweeper');
      if (more.length === 0) break;
      claimed.push(...more);
    }
    const ids = claimed.map((task) => task.id);
    expect(new Set(ids).size).toBe(60);
    expect(ids).toHaveLength(60);
  });
});

describe.each(testDialects)('fairness through the API: two apps, one worker slot (%s)', (dialect) => {
  let t: TestServer;
  beforeAll(async () => {
    // The worker starts once both apps have queued, so the test decides what it finds.
    t = await startTestServer(dialect, {
      env: { CHATPORT_WORKER: 'false', CHATPORT_WORKER_CONCURRENCY: '1' },
    });
  });
  afterAll(() => t.close());

  it('runs a second app’s export second, not after the first app’s backlog of twenty', async () => {
    const busy = t.app;
    const other = await t.createTestApp('other');
    for (const app of [busy, other]) {
      await app.client.upsertUsers([{ id: 'ann' }]);
      const channel = app.client.channel('messaging', 'room', { created_by_id: 'ann' } as never);
      await channel.create();
      await channel.sendMessage({ text: 'hello', user_id: 'ann' });
    }
    const backlog: string[] = [];
    for (let i = 0; i < 20; i++) {
      backlog.push((await busy.client.exportChannels([{ type: 'messaging', id: 'room' }])).task_id);
    }
    const { task_id } = await other.client.exportChannels([{ type: 'messaging', id: 'room' }]);
    const worker = startTaskWorker(t.server.context);
    try {
      expect((await waitForTask(other.client, task_id)).status).toBe('completed');
      for (const id of backlog) expect((await waitForTask(busy.client, id)).status).toBe('completed');
    } finally {
      await worker.stop();
    }

    const { db } = t.server.context;
    const starts = await db
      .selectFrom('tasks')
      .select(['id', 'started_at'])
      .where('id', 'in', [...backlog, task_id])
      .orderBy('started_at')
      .execute();
    expect(starts.map((task) => task.id).indexOf(task_id)).toBe(1);
  });
});
