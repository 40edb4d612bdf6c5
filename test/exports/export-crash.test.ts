import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTaskWorker } from '../../src/runtime.js';
import { testDialects } from '../helpers/databases.js';
import { waitForTask, type V1Record } from '../helpers/exports.js';
import { killLikeACrash } from '../helpers/processes.js';
import { insertMessages } from '../helpers/seed.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

const MESSAGES = 100_000;
const LEASE_MS = '1500';

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

describe.each(testDialects)('an export whose worker is killed mid-write (%s)', (dialect) => {
  let t: TestServer;
  let child: ChildProcess | undefined;
  let appId: number;

  beforeAll(async () => {
    // No worker in the server: the child process is the only one, until the test starts another.
    t = await startTestServer(dialect, {
      env: { CHATPORT_WORKER: 'false', CHATPORT_TASK_LEASE_MS: LEASE_MS },
    });
    const db = t.server.context.db;
    appId = t.app.id;
    await t.app.client.upsertUser({ id: 'writer' });
    await t.app.client
      .channel('messaging', 'huge', { created_by_id: 'writer', members: ['writer'] } as never)
      .create();
    await insertMessages(db, appId, 'messaging:huge', MESSAGES, {
      userId: 'writer',
      idPrefix: 'h',
      startMicros: 1_650_000_000_000_000,
    });
  }, 180_000);
  afterAll(async () => {
    child?.kill('SIGKILL');
    await t.close();
  });

  it('leaves no partial file to serve, and another worker completes the task on a new attempt', async () => {
    const config = t.server.context.config;
    child = spawn(process.execPath, ['bin/chatport.mjs', 'worker'], {
      env: {
        ...process.env,
        CHATPORT_DATA_DIR: config.dataDir,
        ...(config.databaseUrl ? { DATABASE_URL: config.databaseUrl } : {}),
        CHATPORT_TASK_LEASE_MS: LEASE_MS,
        CHATPORT_TASK_POLL_MS: '50',
        CHATPORT_LOG_LEVEL: 'warn',
        // No checkpoint before the kill: the new attempt starts over (export-resume.test.ts resumes).
        CHATPORT_EXPORT_CHECKPOINT_MS: '3600000',
      },
      stdio: 'ignore',
    });
    const { task_id } = await t.app.client.exportChannels([{ cid: 'messaging:huge' }]);
    const taskDir = path.join(config.dataDir, 'files', 'exports', String(appId), task_id);

    // Kill the worker while it is writing: its attempt's temporary file exists and holds bytes.
    await waitFor(
      () =>
        filesUnder(taskDir).some(
          (f) => path.basename(f).startsWith('.') && f.endsWith('.tmp') && fs.statSync(f).size > 0,
        ),
      (writing) => writing,
      { timeoutMillis: 60_000, intervalMillis: 5, what: 'the worker writing its temporary file' },
    );
    await killLikeACrash(child);

    const stuck = (await t.app.client.getExportChannelStatus(task_id)) as unknown as {
      status: string;
      result?: unknown;
    };
    expect(['running', 'pending']).toContain(stuck.status);
    expect(stuck.result).toBeUndefined();
    // Nothing was published: only the dead attempt's hidden temporary file is on disk.
    expect(filesUnder(taskDir).filter((f) => !path.basename(f).startsWith('.'))).toEqual([]);

    const worker = startTaskWorker(t.server.context);
    try {
      const task = await waitForTask(t.app.client, task_id, 120_000);
      expect(task.status).toBe('completed');
      const row = await t.server.context.db
        .selectFrom('tasks')
        .selectAll()
        .where('id', '=', task_id)
        .executeTakeFirstOrThrow();
      expect(row.attempt).toBe(2);
      expect(row.file_key).toContain(`/${task_id}/2/`);
      const response = await fetch(task.result!.url!);
      const [record] = (await response.json()) as [V1Record];
      expect(record.messages).toHaveLength(MESSAGES);
      expect(new Set(record.messages.map((m) => m.id)).size).toBe(MESSAGES);
    } finally {
      await worker.stop();
    }
    // The dead attempt's temporary file is swept as a leftover.
    const { storage } = t.server.context;
    for (const temporary of await storage.listTemporary()) await storage.removeTemporary(temporary);
    expect(filesUnder(taskDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 240_000);
});
