import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/lib/time.js';
import { sweepExpiredFiles } from '../../src/modules/retention/retention.sweeper.js';
import { taskHandlersOf } from '../../src/modules/tasks/tasks.kinds.js';
import { taskKinds } from '../../src/task-kinds.js';
import { createTaskWorker } from '../../src/modules/tasks/tasks.worker.js';
import type { StorageDriver } from '../../src/modules/storage/storage.types.js';
import { testDialects, type TestDialect } from '../helpers/databases.js';
import { parseV2, waitForTask } from '../helpers/exports.js';
import { startS3TestServer, type S3TestServer } from '../helpers/s3-server.js';
import { insertMessages } from '../helpers/seed.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const MESSAGES = 20_000;
const STEPS = ['opened', 'writing', 'committing', 'committed'] as const;
type Driver = 'local' | 's3';

/** Local disk on both databases; S3 on one of them (the storage, not the database, is under test). */
const cases: Array<[Driver, TestDialect]> = [
  ...testDialects.map((dialect): [Driver, TestDialect] => ['local', dialect]),
  ['s3', testDialects.at(-1)!],
];

async function listAll(storage: StorageDriver, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of storage.listObjects(prefix)) keys.push(object.key);
  return keys.sort();
}

/** Runs the fixture worker until it reports reaching `step`, then SIGKILLs it. */
async function killWorkerAt(env: Record<string, string>, step: string): Promise<string> {
  const child = spawn(process.execPath, ['bin/run-ts.mjs', 'test/fixtures/export-publish-process.ts'], {
    env: { ...process.env, ...env, FIXTURE_STOP_AT: step },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  readline.createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const line = await new Promise<string>((resolve, reject) => {
      readline.createInterface({ input: child.stdout! }).on('line', (text) => {
        if (text.startsWith(`at ${step} `)) resolve(text);
      });
      child.once('exit', (code) => reject(new Error(`the fixture exited (${code}): ${stderr.join('\n')}`)));
    });
    return line.split(' ')[2]!;
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

describe.each(cases)(
  'an export worker killed at each step of publishing (%s storage, %s)',
  (driver, dialect) => {
    let s3: S3TestServer | undefined;
    let t: TestServer;
    let appId: number;
    let storageEnv: Record<string, string> = {};

    beforeAll(async () => {
      if (driver === 's3') {
        s3 = await startS3TestServer();
        storageEnv = { ...s3.env(`kills-${dialect}`), CHATPORT_S3_PART_SIZE_MB: '5' };
      }
      t = await startTestServer(dialect, {
        env: { ...storageEnv, CHATPORT_WORKER: 'false', CHATPORT_TASK_LEASE_MS: '1000' },
      });
      const { db } = t.server.context;
      appId = t.app.id;
      await t.app.client.upsertUser({ id: 'writer' });
      await t.app.client
        .channel('messaging', 'kept', { created_by_id: 'writer', members: ['writer'] } as never)
        .create();
      await insertMessages(db, appId, 'messaging:kept', MESSAGES, {
        userId: 'writer',
        idPrefix: 'k',
        startMicros: 1_700_000_000_000_000,
      });
    }, 120_000);
    afterAll(async () => {
      await t.close();
      await s3?.close();
    });

    it.each(STEPS)(
      'killed at "%s": a new attempt publishes the file, the sweep leaves only it, retention leaves nothing',
      { timeout: 120_000 },
      async (step) => {
        const context = t.server.context;
        const { config, storage } = context;
        const { task_id } = await t.app.client.exportChannels([{ cid: 'messaging:kept' }], { version: 'v2' });
        const killedKey = await killWorkerAt(
          {
            ...storageEnv,
            CHATPORT_DATA_DIR: config.dataDir,
            ...(config.databaseUrl ? { DATABASE_URL: config.databaseUrl } : {}),
            CHATPORT_TASK_LEASE_MS: '1000',
            CHATPORT_TASK_POLL_MS: '50',
            CHATPORT_LOG_LEVEL: 'warn',
            // No checkpoint: the new attempt starts over (resuming is export-resume.test.ts's).
            CHATPORT_EXPORT_CHECKPOINT_MS: '3600000',
            // Past one S3 part, so the dead attempt leaves an upload behind, not only memory.
            FIXTURE_STOP_AFTER_BYTES: String(6 * 1024 * 1024),
          },
          step,
        );
        expect(killedKey).toMatch(new RegExp(`^exports/${appId}/${task_id}/1/`));
        const taskPrefix = `exports/${appId}/${task_id}/`;
        // What the kill left: the published object, or the write's temporary (S3 starts its upload only
        // with the first full part, so a write killed at once leaves nothing there).
        if (step === 'committed') expect(await listAll(storage, taskPrefix)).toEqual([killedKey]);
        else if (step !== 'opened' || driver === 'local') {
          expect((await storage.listTemporary()).map((temporary) => temporary.key)).toEqual([killedKey]);
        }

        const worker = createTaskWorker({
          context,
          handlers: taskHandlersOf(taskKinds),
          leaseMillis: 1000,
          reapMillis: 100,
          pollMillis: 50,
          retryPolicy: { baseMillis: 10, capMillis: 10 },
        });
        worker.start();
        let task;
        try {
          task = await waitForTask(t.app.client, task_id, 90_000);
        } finally {
          await worker.stop();
        }
        expect(task.status, JSON.stringify(task.error)).toBe('completed');
        const row = await context.db
          .selectFrom('tasks')
          .selectAll()
          .where('id', '=', task_id)
          .executeTakeFirstOrThrow();
        expect(row.attempt).toBe(2);
        expect(row.file_key).toMatch(new RegExp(`^${taskPrefix}2/`));

        await sweepExpiredFiles(context);
        // What the dead attempt wrote is gone; the live file stays and downloads whole.
        expect(await listAll(storage, taskPrefix)).toEqual([row.file_key]);
        expect(await storage.listTemporary()).toEqual([]);
        const lines = parseV2(await (await fetch(task.result!.url!)).text());
        expect(lines.filter((line) => line.type === 'message')).toHaveLength(MESSAGES);

        // At the end of retention nothing any attempt wrote is left.
        const later = createManualClock(row.file_expires_at!);
        expect(await sweepExpiredFiles({ ...context, clock: later })).toMatchObject({ filesDeleted: 1 });
        expect(await listAll(storage, taskPrefix)).toEqual([]);
        expect(await storage.listTemporary()).toEqual([]);
      },
    );
  },
);
