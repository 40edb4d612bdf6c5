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

/**
 * Makes `event` on `table` fail for the rows whose `column` is `value`, as a lost connection, a full
 * disk or a row the database cannot take would. Resolves with what allows them again.
 */
async function refuse(
  db: Kysely<Database>,
  dialect: string,
  event: 'insert' | 'update',
  table: 'channels' | 'messages',
  where: { column: 'cid' | 'id'; value: string },
): Promise<() => Promise<void>> {
  const name = sql.id(`refuse_${table}_${event}`);
  const when = sql`new.${sql.id(where.column)} = ${sql.lit(where.value)}`;
  if (dialect === 'postgres') {
    await sql`create or replace function chatport_test_refuse() returns trigger language plpgsql as $$
      begin raise exception 'refused by the test'; end $$`.execute(db);
    await sql`create trigger ${name} before ${sql.raw(event)} on ${sql.id(table)} for each row
      when (${when}) execute function chatport_test_refuse()`.execute(db);
    return async () => void (await sql`drop trigger ${name} on ${sql.id(table)}`.execute(db));
  }
  await sql`create trigger ${name} before ${sql.raw(event)} on ${sql.id(table)}
    when ${when} begin select raise(abort, 'refused by the test'); end`.execute(db);
  return async () => void (await sql`drop trigger ${name}`.execute(db));
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

  // A plain send is stored with its last_message_at by one statement (PostgreSQL) or one transaction
  // (SQLite); a send that quotes a message runs a transaction, and PostgreSQL moves last_message_at
  // after its commit (messages.channel-activity.ts).
  it.each([
    { kind: 'a plain send', quotes: false },
    { kind: 'a send that quotes a message', quotes: true },
  ])(
    '$kind is answered with the stored message, or refused with nothing stored: never an error for a stored one',
    async ({ quotes }) => {
      const id = quotes ? 'broken-quoting' : 'broken-plain';
      const channel = t.app.client.channel('messaging', id, { created_by_id: 'ann' } as never);
      await channel.create();
      if (quotes) await channel.sendMessage({ id: `${id}-quoted`, text: 'quote me', user_id: 'ann' });
      const before = await lastMessageAt(`messaging:${id}`);
      const allow = await refuse(db, dialect, 'update', 'channels', {
        column: 'cid',
        value: `messaging:${id}`,
      });
      const movedAfterCommit = quotes && dialect === 'postgres';
      try {
        const sent = channel.sendMessage({
          id: `${id}-kept-or-refused`,
          text: 'hello',
          user_id: 'ann',
          ...(quotes ? { quoted_message_id: `${id}-quoted` } : {}),
        });
        if (movedAfterCommit) {
          // last_message_at moves after the commit: the message is stored, so the send succeeds.
          const { message } = await sent;
          expect(message.id).toBe(`${id}-kept-or-refused`);
          expect(await stored(`${id}-kept-or-refused`)).toHaveLength(1);
          expect(await lastMessageAt(`messaging:${id}`)).toBe(before);
        } else {
          // Moved with the message: the failure takes the message back.
          await expect(sent).rejects.toMatchObject({ response: { status: 500 } });
          expect(await stored(`${id}-kept-or-refused`)).toEqual([]);
        }
      } finally {
        await allow();
      }
      if (movedAfterCommit) {
        // The failed move is tried again in the background, and then catches up.
        const [row] = await stored(`${id}-kept-or-refused`);
        await waitFor(
          () => lastMessageAt(`messaging:${id}`),
          (at) => at === row!.created_at,
          { what: 'last_message_at to catch up' },
        );
      }
    },
  );

  it('a channel whose row cannot be updated, sent into beside other channels at once, holds back none of theirs', async () => {
    const others = ['beside-1', 'beside-2', 'beside-3'].map((id) =>
      t.app.client.channel('messaging', id, { created_by_id: 'ann' } as never),
    );
    const broken = t.app.client.channel('messaging', 'beside-broken', { created_by_id: 'ann' } as never);
    for (const channel of [...others, broken]) await channel.create();
    const allow = await refuse(db, dialect, 'update', 'channels', {
      column: 'cid',
      value: 'messaging:beside-broken',
    });
    try {
      const sent = await Promise.allSettled(
        Array.from({ length: 24 }, (_, i) =>
          (i % 4 === 3 ? broken : others[i % 4]!).sendMessage({ text: `m${i}`, user_id: 'ann' }),
        ),
      );
      for (const [i, result] of sent.entries()) {
        // last_message_at moves with the message (in its statement or transaction): only the broken
        // channel's fail.
        if (i % 4 !== 3) expect(result.status).toBe('fulfilled');
        else expect(result).toMatchObject({ status: 'rejected', reason: { response: { status: 500 } } });
      }
      for (const [i, channel] of others.entries()) {
        const newest = sent
          .filter((result, n) => n % 4 === i && result.status === 'fulfilled')
          .map((result) => (result as PromiseFulfilledResult<{ message: { id: string } }>).value.message.id);
        const rows = await db
          .selectFrom('messages')
          .select((eb) => eb.fn.max('created_at').as('newest'))
          .where('app_id', '=', appId)
          .where('id', 'in', newest)
          .executeTakeFirstOrThrow();
        expect(await lastMessageAt(channel.cid)).toBe(Number(rows.newest));
      }
    } finally {
      await allow();
    }
  });

  it('a message the database refuses, sent among others at once, fails alone', async () => {
    const channel = t.app.client.channel('messaging', 'one-refused', { created_by_id: 'ann' } as never);
    await channel.create();
    const allow = await refuse(db, dialect, 'insert', 'messages', { column: 'id', value: 'refused-row' });
    try {
      // Called in-process, all in one tick, so that sends wait together and go into one batch.
      const sent = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          storeMessage(t.server.context, appId, { kind: 'server' }, 'messaging:one-refused', {
            id: i === 7 ? 'refused-row' : `kept-${i}`,
            text: 'hello',
            user_id: 'ann',
          }),
        ),
      );
      expect(sent.map((result) => result.status)).toEqual(
        Array.from({ length: 20 }, (_, i) => (i === 7 ? 'rejected' : 'fulfilled')),
      );
      expect(String((sent[7] as PromiseRejectedResult).reason)).toContain('refused by the test');
      const rows = await db
        .selectFrom('messages')
        .select('id')
        .where('app_id', '=', appId)
        .where('cid', '=', 'messaging:one-refused')
        .execute();
      expect(rows).toHaveLength(19);
    } finally {
      await allow();
    }
  });

  it.runIf(dialect === 'postgres')(
    'logs the channel whose last_message_at was not moved, and moves it when tried again',
    async () => {
      const channel = t.app.client.channel('messaging', 'logged', { created_by_id: 'ann' } as never);
      await channel.create();
      await channel.sendMessage({ id: 'logged-quoted', text: 'quote me', user_id: 'ann' });
      const { lines, logger } = recordingLogger();
      const allow = await refuse(db, dialect, 'update', 'channels', {
        column: 'cid',
        value: 'messaging:logged',
      });
      let row;
      try {
        ({ row } = await storeMessage(
          { ...t.server.context, logger },
          appId,
          { kind: 'server' },
          'messaging:logged',
          // Quoting, so that it runs the transaction whose last_message_at moves after the commit.
          { id: 'logged-1', text: 'hello', user_id: 'ann', quoted_message_id: 'logged-quoted' },
        ));
      } finally {
        await allow();
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
