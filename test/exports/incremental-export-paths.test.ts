import fs from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import type { StreamChat } from 'stream-chat';
import type { Database } from '../../src/database/database.types.js';
import { createManualClock, MICROS_PER_DAY } from '../../src/lib/time.js';
import {
  messagesFrom,
  messagesIn,
  type MessageScope,
} from '../../src/modules/exports/channel-export.source.js';
import { changedReactions } from '../../src/modules/exports/channel-export.changes.js';
import { decodeCursor, encodeCursor } from '../../src/modules/exports/export-cursor.js';
import { exportSqlDialects } from '../../src/modules/exports/export-sql.dialects.js';
import { importLines } from '../../src/modules/imports/imports.usecases.js';
import { sweepExpiredFiles } from '../../src/modules/retention/retention.sweeper.js';
import { expectStreamError } from '../helpers/assertions.js';
import { testDialects } from '../helpers/databases.js';
import { channelTruth, expectSameEntities, Replica } from '../helpers/export-replica.js';
import { exportAndDownload, parseV2, type V1Record } from '../helpers/exports.js';
import { insertMessages, insertReactions } from '../helpers/seed.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** The documented JSON Schemas of the two formats (docs/schemas), tombstones included. */
function schemaCheck(version: 'v1' | 'v2') {
  const schema = JSON.parse(
    fs.readFileSync(
      new URL(`../../docs/schemas/channel-export-${version}.schema.json`, import.meta.url),
      'utf8',
    ),
  ) as object;
  const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
  return (value: unknown) => {
    expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
  };
}
const matchesV1 = schemaCheck('v1');
const matchesV2 = schemaCheck('v2');

describe.each(testDialects)('incremental exports: write paths, v1, cursors (%s)', (dialect) => {
  const clock = createManualClock(Math.floor(Date.now() / 1000) * 1_000_000);
  let t: TestServer;
  let client: StreamChat;
  let db: Kysely<Database>;
  let appId: number;

  beforeAll(async () => {
    t = await startTestServer(dialect, { clock });
    client = t.app.client;
    db = t.server.context.db;
    appId = t.app.id;
    await client.upsertUsers(['ann', 'ben', 'cat', 'dan', 'eve'].map((id) => ({ id })));
  });

  afterAll(async () => {
    await t?.close();
  });

  async function exportOf(id: string, options: Record<string, unknown>) {
    const { task, text } = await exportAndDownload(client, [{ type: 'messaging', id }], options);
    return { result: task.result!, text, cursor: task.result!.cursor as string };
  }

  async function newChannel(id: string, members: string[]) {
    const channel = client.channel('messaging', id, { created_by_id: 'ann', members } as never);
    await channel.create();
    return channel;
  }

  it('v1 carries the changed members and messages, and a record of tombstones of what went for good', async () => {
    const channel = await newChannel('v1', ['ann', 'ben', 'cat']);
    for (const id of ['v1-a', 'v1-b', 'v1-c', 'v1-d'])
      await channel.sendMessage({ id, text: id, user_id: 'ann' } as never);
    await channel.sendReaction('v1-b', { type: 'like', user_id: 'ben' });
    const full = await exportOf('v1', { version: 'v1' });
    const [whole] = JSON.parse(full.text) as V1Record[];
    expect(whole!.messages.map((m) => m.id)).toEqual(['v1-a', 'v1-b', 'v1-c', 'v1-d']);
    expect(whole).not.toHaveProperty('tombstones');
    expect(full.result).not.toHaveProperty('tombstones');

    await client.updateMessage({ id: 'v1-a', text: 'edited' } as never, 'ann');
    await client.deleteMessage('v1-b', true);
    await client.deleteMessage('v1-c');
    await channel.addMembers(['dan']);
    await channel.removeMembers(['cat']);

    const next = await exportOf('v1', { version: 'v1', since_cursor: full.cursor });
    matchesV1(JSON.parse(next.text));
    const [record] = JSON.parse(next.text) as Array<
      V1Record & { tombstones: Array<Record<string, unknown>> }
    >;
    expect(record!.channel.cid).toBe('messaging:v1');
    expect(record!.members.map((m) => (m.user as { id: string }).id)).toEqual(['dan']);
    expect(record!.messages.map((m) => [m.id, m.text, m.type])).toEqual([
      ['v1-a', 'edited', 'regular'],
      ['v1-c', 'v1-c', 'deleted'],
    ]);
    const deletedAt = (value: unknown) => expect(value).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const tombstones = record!.tombstones.map(({ deleted_at, ...rest }) => {
      deletedAt(deleted_at);
      return rest;
    });
    const where = { channel_type: 'messaging', channel_id: 'v1' };
    expect(tombstones).toEqual(
      expect.arrayContaining([
        { entity: 'message', id: 'v1-b', ...where },
        { entity: 'reaction', message_id: 'v1-b', user_id: 'ben', type: 'like', ...where },
        { entity: 'member', user_id: 'cat', ...where },
      ]),
    );
    expect(tombstones).toHaveLength(3);
    expect(next.result).toMatchObject({ channels: 1, members: 1, messages: 2, tombstones: 3 });
    expect(next.cursor).not.toBe(full.cursor);
  });

  it('hard truncation, a user deleted for good and the importer each leave their changes for the next export', async () => {
    const channel = await newChannel('paths', ['ann', 'ben', 'eve']);
    for (const [id, user] of [
      ['p-1', 'ann'],
      ['p-2', 'eve'],
      ['p-3', 'ben'],
    ] as const)
      await channel.sendMessage({ id, text: id, user_id: user } as never);
    await channel.sendReaction('p-1', { type: 'like', user_id: 'eve' });
    await channel.sendReaction('p-3', { type: 'like', user_id: 'ann' });
    await channel.mute({ user_id: 'eve' });
    const replica = new Replica();
    let step = await exportOf('paths', { version: 'v2' });
    replica.apply(parseV2(step.text));
    const next = async () => {
      step = await exportOf('paths', { version: 'v2', since_cursor: step.cursor });
      const lines = parseV2(step.text);
      for (const line of lines) matchesV2(line);
      replica.apply(lines);
      expectSameEntities(
        replica,
        await channelTruth(db, appId, 'messaging:paths'),
        parseV2((await exportOf('paths', { version: 'v2' })).text),
      );
      return lines;
    };

    // The importer's bulk writer.
    const line = (type: string, data: Record<string, unknown>) => JSON.stringify({ type, data });
    const where = { channel_type: 'messaging', channel_id: 'paths' };
    await importLines({
      dialect: t.server.context.dialect,
      clock,
      appId,
      input: [
        line('member', { ...where, user_id: 'dan' }),
        line('channel_mute', { ...where, user_id: 'dan', created_at: '2026-01-01T00:00:00Z' }),
        line('message', { ...where, id: 'p-imported', text: 'imported', user: 'dan' }),
        line('reaction', { message_id: 'p-2', user_id: 'dan', type: 'wow' }),
      ],
    });
    const imported = await next();
    expect(imported.filter((l) => l.type !== 'channel').map(Replica.keyOf)).toEqual(
      expect.arrayContaining([
        'member:dan',
        'channel_mute:dan',
        'message:p-imported',
        'reaction:p-2/dan/wow',
      ]),
    );

    // A user deleted for good, with their messages: their messages, reactions, memberships and mutes go.
    await client.deleteUser('eve', { hard_delete: true, mark_messages_deleted: true } as never);
    const deleted = await next();
    expect(deleted.filter((l) => l.type === 'tombstone').map(Replica.keyOf)).toEqual(
      expect.arrayContaining([
        'tombstone:member:eve',
        'tombstone:channel_mute:eve',
        'tombstone:message:p-2',
        'tombstone:reaction:p-1/eve/like',
      ]),
    );

    // A hard truncation removes every message and reaction.
    await channel.truncate({ hard_delete: true } as never);
    const truncated = await next();
    expect(truncated.filter((l) => l.type === 'tombstone').map(Replica.keyOf)).toEqual(
      expect.arrayContaining([
        'tombstone:message:p-1',
        'tombstone:message:p-3',
        'tombstone:reaction:p-3/ann/like',
      ]),
    );
    expect(replica.messages.size).toBe((await channelTruth(db, appId, 'messaging:paths')).messages.length);
  });

  it('refuses a cursor that is malformed, not a string, another app’s or another database’s with 400 code 4, queueing nothing', async () => {
    await newChannel('cursors', ['ann']);
    const { cursor } = await exportOf('cursors', {});
    const decoded = decodeCursor(cursor)!;
    expect(decoded.app).toBe(appId);
    const other = await t.createTestApp('other');
    await other.client.upsertUsers([{ id: 'ann' }]);
    await other.client.channel('messaging', 'cursors', { created_by_id: 'ann' } as never).create();
    const otherCursor = (await exportAndDownload(other.client, [{ type: 'messaging', id: 'cursors' }])).task
      .result!.cursor as string;

    const tasks = async () =>
      Number(
        (
          await db
            .selectFrom('tasks')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('app_id', '=', appId)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await tasks();
    const refused = async (options: Record<string, unknown>, field: string, message: RegExp) => {
      const error = await expectStreamError(
        client.exportChannels([{ type: 'messaging', id: 'cursors' }], options as never),
        { status: 400, code: 4 },
      );
      expect(error.exception_fields).toHaveProperty([field]);
      expect(String(error.message)).toMatch(message);
    };
    await refused({ since_cursor: otherCursor }, 'since_cursor', /another app/);
    await refused({ since_cursor: 'not a cursor' }, 'since_cursor', /not a cursor/);
    await refused({ since_cursor: `${cursor}x!` }, 'since_cursor', /not a cursor/);
    await refused({ since_cursor: cursor.slice(0, -4) }, 'since_cursor', /not a cursor/);
    await refused({ since_cursor: 42 }, 'since_cursor', /must be/);
    const otherDatabase = dialect === 'sqlite' ? 'postgres' : 'sqlite';
    await refused(
      { since_cursor: encodeCursor({ ...decoded, database: otherDatabase }) },
      'since_cursor',
      /another kind of database/,
    );
    for (const mark of [
      'x',
      '-1',
      '5:3:',
      '1:9:4,2',
      '0:0:',
      '99999999999999999999',
      "1'; drop table messages; --",
    ]) {
      await refused(
        { since_cursor: encodeCursor({ ...decoded, marks: { 'messaging:cursors': mark } }) },
        'since_cursor',
        /not a cursor/,
      );
    }
    const error = await expectStreamError(
      client.exportChannels(
        [{ type: 'messaging', id: 'cursors', messages_since: '2020-01-01T00:00:00Z' }] as never,
        { since_cursor: cursor } as never,
      ),
      { status: 400, code: 4 },
    );
    expect(error.exception_fields).toHaveProperty(['channels.0.messages_since']);
    expect(await tasks()).toBe(before);
  });

  it('a cursor is good for the retention days; then it is refused, and the sweeper forgets deletes a day later', async () => {
    const channel = await newChannel('horizon', ['ann']);
    await channel.sendMessage({ id: 'h-1', text: 'h', user_id: 'ann' } as never);
    const { cursor } = await exportOf('horizon', { version: 'v2' });
    await client.deleteMessage('h-1', true);
    const tombstones = async () =>
      (
        await db
          .selectFrom('tombstones')
          .select('message_id')
          .where('app_id', '=', appId)
          .where('cid', '=', 'messaging:horizon')
          .execute()
      ).map((r) => r.message_id);
    expect(await tombstones()).toEqual(['h-1']);

    clock.advanceMillis(59 * 24 * 3600_000);
    const inTime = await exportOf('horizon', { version: 'v2', since_cursor: cursor });
    expect(parseV2(inTime.text).map(Replica.keyOf)).toContain('tombstone:message:h-1');
    clock.advanceMillis(2 * 24 * 3600_000);
    const error = await expectStreamError(
      client.exportChannels([{ type: 'messaging', id: 'horizon' }], { since_cursor: cursor } as never),
      { status: 400, code: 4 },
    );
    expect(String(error.message)).toMatch(/older than 60 days/);
    expect((await sweepExpiredFiles(t.server.context)).tombstonesPruned).toBe(0);
    expect(await tombstones()).toEqual(['h-1']);
    clock.advanceMillis(MICROS_PER_DAY / 1000);
    expect((await sweepExpiredFiles(t.server.context)).tombstonesPruned).toBeGreaterThanOrEqual(1);
    expect(await tombstones()).toEqual([]);
    // A cursor of the later export still works: it is within its horizon.
    await exportOf('horizon', { version: 'v2', since_cursor: inTime.cursor });
  });

  it('finds what changed by the changes indexes, not by reading the channel', async () => {
    await newChannel('large', ['ann']);
    const messageIds = await insertMessages(db, appId, 'messaging:large', 10_000, {
      userId: 'ann',
      idPrefix: 'large',
      startMicros: clock.nowMicros(),
    });
    await insertReactions(db, appId, messageIds, {
      userId: 'ben',
      type: 'like',
      startMicros: clock.nowMicros(),
    });
    const exportSql = exportSqlDialects[t.server.context.dialect.name];
    const mark = async () => String((await exportSql.changes.take().execute(db)).rows[0]!.mark);
    const after = await mark();
    await client.updateMessage({ id: 'large-0000007', text: 'changed' } as never, 'ann');
    const through = await mark();
    if (dialect === 'postgres') await sql`analyze`.execute(db);
    const scope: MessageScope = {
      appId,
      cid: 'messaging:large',
      window: { since: null, until: null, hiddenUntil: null },
      changes: { window: { after, through }, sql: exportSql.changes },
    };
    const plan = async (query: ReturnType<typeof sql>) => {
      const explain =
        dialect === 'sqlite' ? sql`explain query plan ${query}` : sql`explain (format text) ${query}`;
      const { rows } = await explain.execute(db);
      return JSON.stringify(rows);
    };
    const pageQuery = sql`select m.created_at, m.id from ${messagesFrom(scope)} where ${messagesIn(scope)}
      order by m.created_at, m.id limit 1 offset 4999`;
    expect(await plan(pageQuery)).toContain('messages_changes');
    const reactions = changedReactions(appId, 'messaging:large', scope.changes!);
    expect(await plan(sql`select r.user_id from ${reactions.from} where ${reactions.where}`)).toContain(
      'reactions_changes',
    );
    const { rows } = await sql<{
      id: string;
    }>`select m.id from ${messagesFrom(scope)} where ${messagesIn(scope)}`.execute(db);
    expect(rows.map((r) => r.id)).toEqual(['large-0000007']);
  }, 120_000);
});
