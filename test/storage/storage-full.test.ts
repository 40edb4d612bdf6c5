import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { exportAndDownload, waitForTask } from '../helpers/exports.js';
import { startS3TestServer, type S3TestServer } from '../helpers/s3-server.js';
import { insertMessages } from '../helpers/seed.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** A real file system that fills up: tmpfs needs root to mount (CI and this project's machines are). */
const isRoot = process.getuid?.() === 0;

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name);
}

describe.skipIf(!isRoot).each(testDialects)('an export to a full disk (%s)', (dialect) => {
  let t: TestServer;
  let files: string;

  beforeAll(async () => {
    t = await startTestServer(dialect);
    files = path.join(t.dataDir, 'files');
    fs.mkdirSync(files, { recursive: true });
    // 1 MiB: the database stays on the real disk, export files go to a disk that is all but full.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', files]);
    const db = t.server.context.db;
    const appId = t.app.id;
    await t.app.client.upsertUser({ id: 'writer' });
    for (const id of ['large', 'small']) {
      await t.app.client
        .channel('messaging', id, { created_by_id: 'writer', members: ['writer'] } as never)
        .create();
    }
    await insertMessages(db, appId, 'messaging:large', 20_000, {
      userId: 'writer',
      idPrefix: 'l',
      startMicros: 1_700_000_000_000_000,
    });
  }, 120_000);
  afterAll(async () => {
    if (files) execFileSync('umount', ['-l', files]);
    await t?.close();
  });

  it('fails at once with storage_full naming the cause, frees what it wrote, and later exports that fit succeed', async () => {
    const { task_id } = await t.app.client.exportChannels([{ cid: 'messaging:large' }], { version: 'v2' });
    const task = await waitForTask(t.app.client, task_id);
    expect(task.status).toBe('failed');
    expect(task.error).toEqual({
      type: 'storage_full',
      description: 'the export storage is full: no space left on the device (ENOSPC)',
    });
    const row = await t.server.context.db
      .selectFrom('tasks')
      .selectAll()
      .where('id', '=', task_id)
      .executeTakeFirstOrThrow();
    // Not retried: a full disk does not heal in the seconds a retry waits.
    expect(row.attempt).toBe(1);
    expect(JSON.parse(row.error!)).toMatchObject({ detail: expect.stringContaining('ENOSPC') });
    // The partial file was removed, so the space is free again.
    expect(filesUnder(files)).toEqual([]);

    const { text } = await exportAndDownload(t.app.client, [{ cid: 'messaging:small' }], { version: 'v2' });
    expect(text).toContain('"type":"channel"');
  });
});

describe('an export to a full S3 store', () => {
  let s3: S3TestServer;
  let t: TestServer;

  beforeAll(async () => {
    s3 = await startS3TestServer();
    t = await startTestServer('sqlite', { env: s3.env('full') });
    await t.app.client.upsertUser({ id: 'writer' });
    await t.app.client
      .channel('messaging', 'small', { created_by_id: 'writer', members: ['writer'] } as never)
      .create();
  });
  afterAll(async () => {
    await t.close();
    await s3.close();
  });

  it('fails at once with storage_full naming the store’s answer, and publishes nothing', async () => {
    // As MinIO answers once its drives reach their free-space threshold.
    s3.faults.refuseUploads = { code: 'XMinioStorageFull', status: 507 };
    const { task_id } = await t.app.client.exportChannels([{ cid: 'messaging:small' }]);
    const task = await waitForTask(t.app.client, task_id);
    s3.faults.refuseUploads = undefined;
    expect(task.status).toBe('failed');
    expect(task.error).toEqual({
      type: 'storage_full',
      description: 'the export storage is full: the store has no space left (XMinioStorageFull)',
    });
    const objects = [];
    for await (const object of t.server.context.storage.listObjects('')) objects.push(object.key);
    expect(objects).toEqual([]);
    const { text } = await exportAndDownload(t.app.client, [{ cid: 'messaging:small' }], { version: 'v2' });
    expect(text).toContain('"type":"channel"');
  });
});
