import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/database/database.types.js';
import { storeMessage } from '../../src/modules/messages/messages.usecases.js';
import { testDialects } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

/** A logger that keeps what it is given, for the tests to read. */
function recordingLogger() {
  const lines: Array<{ level: string; fields: Record<string, unknown>; message: string }> = [];
  const record = (level: string) => (fields: Record<string, unknown>, message: string) =>
    void lines.push({ level, fields, message });
  return { lines, logger: { warn: record('warn'), error: record('error') } as never };
}

/** Makes every UPDATE of one channel's row fail, as a lost connection or a full disk would. */
async function refuseChannelUpdates(db: Kysely<Database>, dialect: string, cid: string): Promise<void> {
  if (dialect === 'postgres') {
    await sql`create or replace function chatport_test_refuse() returns trigger language plpgsql as $$
      begin raise exception 'refused by the test'; end $$`.execute(db);
    await sql`create trigger refuse_channel_update before update on channels for each row
      when (new.cid = ${sql.lit(cid)}) execute function chatport_test_refuse()`.execute(db);
  } else {
    await sql`create trigger refuse_channel_update before update on channels
      when new.cid = ${sql.lit(cid)} begin select raise(abort, 'refused by the test'); end`.execute(db);
  }
}

async function allowChannelUpdates(db: Kysely<Database>, dialect: string): Promise<void> {
  if (dialect === 'postgres') await sql`drop trigger refuse_channel_update on channels`.execute(db);
  else await sql`drop trigger refuse_channel_update`.execute(db);
}

describe.each(testDialects)('a send whose channel row cannot be updated (%s)', (dialect) => {
  let t: TestServer;
  let db: Kysely<Database>;
  let appId: number;

  beforeAll(async () => {
    t = await startTestServer(dialect);
    db = t.server.context.db;
    appId = t.app.id;
    await t.app.client.upsertUsers([{ id: 'ann' }]);
  });
  afterAll(() => t.close());

  const stored = (id: string) =>
    db.selectFrom('messages').select('created_at').where('app_id', '=', appId).where('id', '=', id).execute();
  const lastMessageAt = async (cid: string) =>
    (
      await db
        .selectFrom('channels')
        .select('last_message_at')
        .where('app_id', '=', appId)
        .where('cid', '=', cid)
        .executeTakeFirstOrThrow()
    ).last_message_at;

  it('answers with the stored message, or refuses it and stores nothing: never an error for a stored one', async () => {
    const channel = t.app.client.channel('messaging', 'broken', { created_by_id: 'ann' } as never);
    await channel.create();
    await refuseChannelUpdates(db, dialect, 'messaging:broken');
    try {
      const sent = channel.sendMessage({ id: 'kept-or-refused', text: 'hello', user_id: 'ann' });
      if (dialect === 'postgres') {
        // last_message_at moves after the commit: the message is stored, so the send succeeds.
        const { message } = await sent;
        expect(message.id).toBe('kept-or-refused');
        expect(await stored('kept-or-refused')).toHaveLength(1);
        expect(await lastMessageAt('messaging:broken')).toBeNull();
      } else {
        // SQLite moves it in the message's transaction: the failure rolls the message back.
        await expect(sent).rejects.toMatchObject({ response: { status: 500 } });
        expect(await stored('kept-or-refused')).toEqual([]);
      }
    } finally {
      await allowChannelUpdates(db, dialect);
    }
    if (dialect === 'postgres') {
      // The failed move is tried again in the background, and then catches up.
      const [row] = await stored('kept-or-refused');
      await waitFor(
        () => lastMessageAt('messaging:broken'),
        (at) => at === row!.created_at,
        { what: 'last_message_at to catch up' },
      );
    }
  });

  it.runIf(dialect === 'postgres')(
    'logs the channel whose last_message_at was not moved, and moves it when tried again',
    async () => {
      const channel = t.app.client.channel('messaging', 'logged', { created_by_id: 'ann' } as never);
      await channel.create();
      const { lines, logger } = recordingLogger();
      await refuseChannelUpdates(db, dialect, 'messaging:logged');
      let row;
      try {
        ({ row } = await storeMessage(
          { ...t.server.context, logger },
          appId,
          { kind: 'server' },
          'messaging:logged',
          { id: 'logged-1', text: 'hello', user_id: 'ann' },
        ));
      } finally {
        await allowChannelUpdates(db, dialect);
      }
      expect(lines[0]).toMatchObject({ level: 'warn', fields: { appId, cid: 'messaging:logged' } });
      expect(String(lines[0]!.fields.err)).toContain('refused by the test');
      await waitFor(
        () => lastMessageAt('messaging:logged'),
        (at) => at === row.created_at,
        { what: 'last_message_at to catch up' },
      );
    },
  );
});
