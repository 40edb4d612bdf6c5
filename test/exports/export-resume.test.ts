import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskHandlersOf } from '../../src/modules/tasks/tasks.kinds.js';
import { createTaskWorker } from '../../src/modules/tasks/tasks.worker.js';
import { taskKinds } from '../../src/task-kinds.js';
import { testDialects, type TestDialect } from '../helpers/databases.js';
import { waitForTask, type TaskBody } from '../helpers/exports.js';
import { killLikeACrash } from '../helpers/processes.js';
import { startS3TestServer, type S3TestServer } from '../helpers/s3-server.js';
import { insertMessages, insertReactions } from '../helpers/seed.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

const MESSAGES = 200_000;
const SECOND = 20_000;
const TOTAL = MESSAGES + SECOND;
const LEASE_MS = '3000';
type Driver = 'local' | 's3';

/** v1 (JSON nesting, commas between records and messages) on local disk; v2 through S3's parts. */
const cases: Array<[Driver, TestDialect, 'v1' | 'v2']> = [
  ...testDialects.map((dialect): [Driver, TestDialect, 'v1'] => ['local', dialect, 'v1']),
  ...testDialects.map((dialect): [Driver, TestDialect, 'v2'] => ['s3', dialect, 'v2']),
];

interface StoredCheckpoint {
  key: string;
  bytes: number;
  counts: { messages: number };
  savepoint: { bytes: number };
}

async function sha256Of(url: string): Promise<{ hash: string; size: number }> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  const hash = crypto.createHash('sha256');
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { hash: hash.digest('hex'), size };
}

describe.each(cases)(
  'an export resumed after its worker is killed (%s storage, %s, %s)',
  (driver, dialect, version) => {
    let s3: S3TestServer | undefined;
    let storageEnv: Record<string, string> = {};
    let t: TestServer;
    let child: ChildProcess | undefined;
    const channels = [{ cid: 'messaging:huge' }, { cid: 'messaging:second' }];

    beforeAll(async () => {
      if (driver === 's3') {
        s3 = await startS3TestServer();
        storageEnv = { ...s3.env(`resume-${dialect}`), CHATPORT_S3_PART_SIZE_MB: '5' };
      }
      // No worker in the server: the child processes, then the test's own, run the export.
      t = await startTestServer(dialect, {
        env: {
          ...storageEnv,
          CHATPORT_WORKER: 'false',
          CHATPORT_TASK_LEASE_MS: LEASE_MS,
          CHATPORT_EXPORT_CHECKPOINT_MS: '0',
        },
      });
      const { db } = t.server.context;
      const appId = t.app.id;
      await t.app.client.upsertUsers([{ id: 'writer', name: 'Writer' }, { id: 'reactor' }]);
      for (const id of ['huge', 'second'])
        await t.app.client
          .channel('messaging', id, { created_by_id: 'writer', members: ['writer', 'reactor'] } as never)
          .create();
      // Two messages a microsecond: pages and checkpoints meet ties in created_at.
      const ids = await insertMessages(db, appId, 'messaging:huge', MESSAGES, {
        userId: 'writer',
        idPrefix: 'h',
        startMicros: 1_650_000_000_000_000,
        perMicrosecond: 2,
      });
      await insertReactions(
        db,
        appId,
        ids.filter((_id, i) => i % 40 === 0),
        {
          userId: 'reactor',
          type: 'like',
          startMicros: 1_660_000_000_000_000,
        },
      );
      await insertMessages(db, appId, 'messaging:second', SECOND, {
        userId: 'reactor',
        idPrefix: 's',
        startMicros: 1_650_000_000_000_000,
      });
    }, 300_000);
    afterAll(async () => {
      child?.kill('SIGKILL');
      await t?.close();
      await s3?.close();
    });

    const options = { version, export_users: true };
    const taskRow = (id: string) =>
      t.server.context.db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

    async function runToCompletion(taskId: string): Promise<TaskBody> {
      const worker = createTaskWorker({
        context: t.server.context,
        handlers: taskHandlersOf(taskKinds),
        leaseMillis: Number(LEASE_MS),
        pollMillis: 50,
        retryPolicy: { baseMillis: 10, capMillis: 10 },
      });
      worker.start();
      try {
        const task = await waitForTask(t.app.client, taskId, 240_000);
        expect(task.status, JSON.stringify(task.error)).toBe('completed');
        return task;
      } finally {
        await worker.stop();
      }
    }

    let killedWorkers = 0;

    /**
     * Starts a `chatport worker`, waits until the task's checkpoint holds `atLeast` messages, kills it,
     * and returns the checkpoint it left. On PostgreSQL a statement the worker sent just before it died
     * (a checkpoint's UPDATE) still runs and commits in its server session: the checkpoint is read once
     * the worker's sessions, named by application_name, have ended.
     */
    async function killWorkerPast(taskId: string, atLeast: number): Promise<StoredCheckpoint> {
      const config = t.server.context.config;
      const sessionName = `chatport-killed-worker-${++killedWorkers}`;
      let databaseUrl: string | undefined;
      if (config.databaseUrl) {
        const url = new URL(config.databaseUrl);
        url.searchParams.set('application_name', sessionName);
        databaseUrl = url.toString();
      }
      const worker = spawn(process.execPath, ['bin/chatport.mjs', 'worker'], {
        env: {
          ...process.env,
          ...storageEnv,
          CHATPORT_DATA_DIR: config.dataDir,
          ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
          CHATPORT_TASK_LEASE_MS: LEASE_MS,
          CHATPORT_TASK_POLL_MS: '50',
          CHATPORT_LOG_LEVEL: 'warn',
          CHATPORT_EXPORT_CHECKPOINT_MS: '0',
        },
        stdio: 'ignore',
      });
      child = worker;
      await waitFor(
        () => taskRow(taskId),
        (row) =>
          row.status === 'running' &&
          row.checkpoint !== null &&
          (JSON.parse(row.checkpoint) as StoredCheckpoint).counts.messages >= atLeast,
        { timeoutMillis: 240_000, intervalMillis: 10, what: `a checkpoint past ${atLeast} messages` },
      );
      const workerSessions = async () =>
        (
          await sql<{ sessions: number }>`select count(*)::int as sessions from pg_stat_activity
            where application_name = ${sessionName}`.execute(t.server.context.db)
        ).rows[0]!.sessions;
      if (databaseUrl) expect(await workerSessions()).toBeGreaterThan(0);
      await killLikeACrash(worker);
      child = undefined;
      if (databaseUrl)
        await waitFor(workerSessions, (sessions) => sessions === 0, {
          timeoutMillis: 30_000,
          intervalMillis: 10,
          what: "the killed worker's sessions to end",
        });
      const row = await taskRow(taskId);
      expect(row.status).not.toBe('completed');
      return JSON.parse(row.checkpoint!) as StoredCheckpoint;
    }

    it(
      'publishes the very bytes of an uninterrupted export, each resumed attempt reading only what was left',
      { timeout: 900_000 },
      async () => {
        const reference = await t.app.client.exportChannels(channels as never, options as never);
        const whole = await runToCompletion(reference.task_id);
        expect(whole.result!.messages).toBe(TOTAL);
        expect(whole.result!.resumed).toBeUndefined();
        const expected = await sha256Of(whole.result!.url!);
        expect(expected.size).toBe(whole.result!.size);

        const { task_id } = await t.app.client.exportChannels(channels as never, options as never);
        const first = await killWorkerPast(task_id, TOTAL * 0.2);
        expect(first.key).toMatch(new RegExp(`/${task_id}/1/`));
        // The second worker resumes the first one's file, and is killed in its turn.
        const second = await killWorkerPast(task_id, TOTAL * 0.6);
        expect(second.key).toBe(first.key);
        expect(second.counts.messages).toBeGreaterThan(first.counts.messages);
        // Two attempts at least (more when a busy machine starved a worker's heartbeat: the attempt that
        // took over resumed as well).
        const afterSecond = await taskRow(task_id);
        expect(afterSecond.attempt).toBeGreaterThanOrEqual(2);

        const task = await runToCompletion(task_id);
        const row = await taskRow(task_id);
        expect(row.attempt).toBe(3);
        expect(row.file_key).toBe(first.key);
        expect(row.checkpoint).toBeNull();
        const resumed = task.result!.resumed as Record<string, number>;
        // The last attempt read only the messages after the second worker's last checkpoint.
        expect(resumed).toEqual({
          bytes_kept: second.savepoint.bytes,
          messages_kept: second.counts.messages,
          messages_read: TOTAL - second.counts.messages,
        });
        for (const key of ['channels', 'members', 'messages', 'reactions', 'users'])
          expect(task.result![key], key).toBe(whole.result![key]);
        expect(task.result!.size).toBe(whole.result!.size);
        expect(await sha256Of(task.result!.url!)).toEqual(expected);

        // Nothing the dead attempts wrote is left once the task is over.
        expect(await t.server.context.storage.listTemporary()).toEqual([]);
      },
    );
  },
);
