import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock, MICROS_PER_DAY, MICROS_PER_HOUR } from '../../src/lib/time.js';
import { sweepExpiredFiles } from '../../src/modules/retention/retention.sweeper.js';
import { testDialects } from '../helpers/databases.js';
import { exportAndDownload, type TaskBody } from '../helpers/exports.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe.each(testDialects)('export links and retention, on an injected clock (%s)', (dialect) => {
  let t: TestServer;
  const clock = createManualClock(Date.now() * 1000);
  beforeAll(async () => {
    t = await startTestServer(dialect, { clock });
    await t.app.client.upsertUser({ id: 'ann' });
    const channel = t.app.client.channel('messaging', 'kept', {
      created_by_id: 'ann',
      members: ['ann'],
    } as never);
    await channel.create();
    await channel.sendMessage({ text: 'remember me', user_id: 'ann' });
  });
  afterAll(() => t.close());

  it('a link expires after 24 hours; a fresh status request signs a new one that works', async () => {
    const { task } = await exportAndDownload(t.app.client, [{ cid: 'messaging:kept' }], { version: 'v2' });
    const oldUrl = task.result!.url!;
    clock.set(clock.nowMicros() + 25 * MICROS_PER_HOUR);
    const expired = await fetch(oldUrl);
    expect(expired.status).toBe(403);
    expect(await expired.json()).toMatchObject({ code: 17 });
    const fresh = (await t.app.client.getTask(task.task_id)) as unknown as TaskBody;
    expect(fresh.result!.url).not.toBe(oldUrl);
    const download = await fetch(fresh.result!.url!);
    expect(download.status).toBe(200);
    expect(await download.text()).toContain('remember me');
  });

  it('after 60 days the sweep deletes the file; the status still answers, without a link, saying it expired', async () => {
    const { task } = await exportAndDownload(t.app.client, [{ cid: 'messaging:kept' }]);
    const row = () =>
      t.server.context.db
        .selectFrom('tasks')
        .selectAll()
        .where('id', '=', task.task_id)
        .executeTakeFirstOrThrow();
    const key = (await row()).file_key!;
    expect(await t.server.context.storage.stat(key)).toBeDefined();
    clock.set(clock.nowMicros() + 61 * MICROS_PER_DAY);
    await sweepExpiredFiles({ ...t.server.context });
    expect(await t.server.context.storage.stat(key)).toBeUndefined();
    expect((await row()).file_deleted_at).not.toBeNull();
    const status = (await t.app.client.getExportChannelStatus(task.task_id)) as unknown as TaskBody;
    expect(status.status).toBe('completed');
    expect(status.result!.url).toBeUndefined();
    expect(status.result).toMatchObject({ expired: true, messages: 1 });
    expect(status.result!.note).toMatch(/60 days/);
    expect((await fetch(task.result!.url!)).status).toBeGreaterThanOrEqual(400);
  });
});
