import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppRow } from '../../src/database/database.types.js';
import { createManualClock, formatMicros, MICROS_PER_DAY, MICROS_PER_HOUR } from '../../src/lib/time.js';
import { signDownloadUrl } from '../../src/modules/downloads/download-links.js';
import { presentDownload } from '../../src/modules/downloads/downloads.presenter.js';
import { startRetentionSweeper, sweepExpiredFiles } from '../../src/modules/retention/retention.sweeper.js';
import type { StorageDriver } from '../../src/modules/storage/storage.types.js';
import { testDialects } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { appRow, errorOf, publishExport } from './published-export.fixture.js';

describe.each(testDialects)('retention of export files (%s)', (dialect) => {
  let clock: ReturnType<typeof createManualClock>;
  let t: TestServer;
  let app: AppRow;

  beforeEach(async () => {
    clock = createManualClock(Math.floor(Date.now() / 1000) * 1_000_000);
    t = await startTestServer(dialect, { clock });
    app = await appRow(t);
  });
  afterEach(() => t.close());

  const taskRow = (id: string) =>
    t.server.context.db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  function local(url: string): string {
    return url.replace(t.server.context.config.publicUrl, t.baseURL);
  }

  it('deletes the file after 60 days, records it, and from then on reports expiry instead of a link', async () => {
    const { config, storage } = t.server.context;
    const expiring = await publishExport(t, app, { content: Buffer.from('{"old":true}') });
    clock.advanceMillis(30 * 24 * 3600_000);
    const younger = await publishExport(t, app, { content: Buffer.from('{"young":true}') });
    const presented = await presentDownload({
      storage: t.server.context.storage,
      task: expiring,
      app,
      config,
      clock,
    });
    if (!('url' in presented)) throw new Error('expected a link');

    clock.advanceMillis(31 * 24 * 3600_000);
    const report = await sweepExpiredFiles(t.server.context);
    expect(report).toMatchObject({ filesDeleted: 1, failures: 0 });
    expect(await storage.stat(expiring.file_key!)).toBeUndefined();
    const swept = await taskRow(expiring.id);
    expect(swept.file_deleted_at).toBe(clock.nowMicros());
    expect(swept.file_key).toBe(expiring.file_key);
    // The younger export is still within its 60 days.
    expect(await storage.stat(younger.file_key!)).toMatchObject({ size: 14 });
    expect((await taskRow(younger.id)).file_deleted_at).toBeNull();

    expect(
      await presentDownload({ storage: t.server.context.storage, task: swept, app, config, clock }),
    ).toEqual({
      expired: true,
      note: `export files are kept for 60 days; this one expired at ${formatMicros(expiring.file_expires_at!)} and is no longer available`,
    });
    const old = await fetch(local(presented.url));
    expect(old.status).toBe(403);
    // Even a link that is still within its own 24 hours finds nothing.
    const signed = signDownloadUrl({
      publicUrl: t.baseURL,
      appId: app.id,
      taskId: expiring.id,
      filename: 'channels.json',
      expiresAtSeconds: Math.floor(clock.nowMicros() / 1e6) + 3600,
      secret: app.api_secret,
    });
    const gone = await fetch(signed);
    expect(gone.status).toBe(404);
    expect(await errorOf(gone)).toMatchObject({ code: 16, StatusCode: 404 });

    // A second sweep has nothing left to do.
    expect(await sweepExpiredFiles(t.server.context)).toMatchObject({ filesDeleted: 0, failures: 0 });
    expect((await taskRow(expiring.id)).file_deleted_at).toBe(swept.file_deleted_at);
  });

  it('stops serving a file at the end of retention even before the sweeper has run', async () => {
    const expiring = await publishExport(t, app, { content: Buffer.from('{}') });
    clock.set(expiring.file_expires_at! - MICROS_PER_HOUR);
    const url = await presentDownload({
      storage: t.server.context.storage,
      task: expiring,
      app,
      config: t.server.context.config,
      clock,
    });
    if (!('url' in url)) throw new Error('expected a link');
    expect((await fetch(local(url.url))).status).toBe(200);
    clock.set(expiring.file_expires_at!);
    const signed = signDownloadUrl({
      publicUrl: t.baseURL,
      appId: app.id,
      taskId: expiring.id,
      filename: 'channels.json',
      expiresAtSeconds: Math.floor(clock.nowMicros() / 1e6) + 3600,
      secret: app.api_secret,
    });
    expect((await fetch(signed)).status).toBe(404);
    expect(
      await presentDownload({
        storage: t.server.context.storage,
        task: expiring,
        app,
        config: t.server.context.config,
        clock,
      }),
    ).toMatchObject({
      expired: true,
    });
  });

  it('removes temporaries left by dead writes once they are an hour old, not sooner', async () => {
    const { storage } = t.server.context;
    const dead = await storage.openWrite('exports/1/dead-task/channels.json');
    await new Promise<void>((resolve, reject) =>
      dead.stream.write('[{"channel":', (e) => (e ? reject(e) : resolve())),
    );
    const everything = Date.now() * 1000 + 60_000_000;

    clock.advanceMillis(30 * 60_000);
    expect(await sweepExpiredFiles(t.server.context)).toMatchObject({ temporariesRemoved: 0 });
    expect(await storage.listTemporary(everything)).toHaveLength(1);

    clock.advanceMillis(60 * 60_000);
    expect(await sweepExpiredFiles(t.server.context)).toMatchObject({ temporariesRemoved: 1 });
    expect(await storage.listTemporary(everything)).toEqual([]);
    await dead.abort();
  });

  it('goes on past a file whose delete fails and tries it again next time', async () => {
    const { storage } = t.server.context;
    const stuck = await publishExport(t, app, { content: Buffer.from('"stuck"') });
    const fine = await publishExport(t, app, { content: Buffer.from('"fine"') });
    let failing = true;
    const flaky: StorageDriver = {
      ...storage,
      async delete(key) {
        if (failing && key === stuck.file_key) throw new Error('disk says no');
        return storage.delete(key);
      },
    };
    clock.advanceMillis((61 * MICROS_PER_DAY) / 1000);
    const sweep = () => sweepExpiredFiles({ ...t.server.context, storage: flaky, batchSize: 1 });
    expect(await sweep()).toMatchObject({ filesDeleted: 1, failures: 1 });
    expect((await taskRow(stuck.id)).file_deleted_at).toBeNull();
    expect((await taskRow(fine.id)).file_deleted_at).toBe(clock.nowMicros());
    failing = false;
    expect(await sweep()).toMatchObject({ filesDeleted: 1, failures: 0 });
    expect((await taskRow(stuck.id)).file_deleted_at).toBe(clock.nowMicros());
  });

  it('runs on its own every interval until stopped', async () => {
    const expiring = await publishExport(t, app, { content: Buffer.from('{}') });
    clock.advanceMillis((61 * MICROS_PER_DAY) / 1000);
    const sweeper = startRetentionSweeper({ ...t.server.context, intervalMillis: 20 });
    try {
      const deadline = Date.now() + 20_000;
      while ((await taskRow(expiring.id)).file_deleted_at === null) {
        if (Date.now() > deadline) throw new Error('the sweeper never deleted the expired file');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await sweeper.stop();
    }
    expect(await t.server.context.storage.stat(expiring.file_key!)).toBeUndefined();
  });
});
