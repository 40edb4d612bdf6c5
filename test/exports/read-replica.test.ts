import crypto from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startServer, startTaskWorker, type RunningServer } from '../../src/runtime.js';
import { postgresUrl } from '../helpers/databases.js';
import { exportAndDownload } from '../helpers/exports.js';
import { insertMessages, insertReactions } from '../helpers/seed.js';
import { sdkClient, startTestServer, type TestServer } from '../helpers/test-server.js';

/**
 * CHATPORT_DATABASE_READ_URL, pointed at the same database as a read-only role: what a hot standby is
 * to chatport (no writes, no temporary tables), without a second server.
 */
describe.skipIf(!postgresUrl)('exports from a read replica (postgres)', () => {
  let primary: TestServer;
  let replicated: RunningServer;
  const reader = `chatport_reader_${crypto.randomBytes(4).toString('hex')}`;
  const admin = async (statements: string[], url = primary.server.context.config.databaseUrl!) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (const statement of statements) await client.query(statement);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    // No worker here: exports run on a worker started against the primary, or in the replicated server.
    primary = await startTestServer('postgres', { env: { CHATPORT_WORKER: 'false' } });
    const { db } = primary.server.context;
    const client = primary.app.client;
    await client.upsertUsers([{ id: 'ann', name: 'Ann' }, { id: 'ben' }]);
    await client
      .channel('messaging', 'kept', { created_by_id: 'ann', members: ['ann', 'ben'] } as never)
      .create();
    const appId = primary.app.id;
    const ids = await insertMessages(db, appId, 'messaging:kept', 5000, {
      userId: 'ann',
      idPrefix: 'r',
      startMicros: 1_700_000_000_000_000,
    });
    await insertReactions(db, appId, ids.slice(0, 700), {
      userId: 'ben',
      type: 'like',
      startMicros: 1_700_100_000_000_000,
    });
    await client
      .channel('messaging', 'kept')
      .sendMessage({ text: 'hi @ben', user_id: 'ann', mentioned_users: ['ben'] });

    await admin([
      `create role ${reader} login`,
      `grant select on all tables in schema public to ${reader}`,
      `alter role ${reader} set default_transaction_read_only = on`,
    ]);
    const readUrl = new URL(primary.server.context.config.databaseUrl!);
    readUrl.username = reader;
    readUrl.searchParams.set('application_name', 'chatport-replica-test');
    replicated = await startServer(
      loadConfig({
        CHATPORT_PORT: '0',
        CHATPORT_DATA_DIR: primary.dataDir,
        CHATPORT_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
        DATABASE_URL: primary.server.context.config.databaseUrl!,
        CHATPORT_DATABASE_READ_URL: readUrl.toString(),
      }),
      { logger: pino({ level: 'silent' }) },
    );
  }, 120_000);
  afterAll(async () => {
    await replicated?.close();
    await primary?.close();
    await admin([`drop owned by ${reader}`, `drop role if exists ${reader}`], postgresUrl);
  });

  it.each(['v1', 'v2'])(
    'a %s export read from the replica matches the one read from the primary',
    async (version) => {
      const request = [{ cid: 'messaging:kept' }];
      const worker = startTaskWorker(primary.server.context);
      const fromPrimary = await exportAndDownload(primary.app.client, request, {
        version,
        export_users: true,
      }).finally(() => worker.stop());
      const client = sdkClient(primary.app.apiKey, primary.app.apiSecret, replicated.url);
      const fromReplica = await exportAndDownload(client, request, { version, export_users: true });
      expect(fromReplica.task.result).toMatchObject({ messages: 5001, reactions: 700 });
      expect(fromReplica.text).toBe(fromPrimary.text);

      // The replica's connections did the reading: they are the read-only role's, under its name.
      const { rows } = await sql<{ n: string }>`select count(*) as n from pg_stat_activity
      where application_name = 'chatport-replica-test' and usename = ${reader}`.execute(
        primary.server.context.db,
      );
      expect(Number(rows[0]!.n)).toBeGreaterThan(0);
    },
  );

  it('refuses a read URL beside an SQLite database at start-up', async () => {
    const config = loadConfig({
      CHATPORT_DATABASE_READ_URL: 'postgres://reader@127.0.0.1/chatport',
      CHATPORT_PORT: '0',
      CHATPORT_DATA_DIR: primary.dataDir,
    });
    await expect(startServer(config, { logger: pino({ level: 'silent' }) })).rejects.toThrow(
      'CHATPORT_DATABASE_READ_URL needs DATABASE_URL and itself to be postgres:// URLs',
    );
  });
});
