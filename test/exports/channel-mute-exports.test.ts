/**
 * Channel mutes in every file that carries them, held to the database's rows: v1 records'
 * `channel_mutes`, v2 `channel_mute` lines (byte for byte the reference encoder's), incremental exports
 * (a mute after the cursor carried, an unmute a tombstone), and both user exports. Expired mutes are
 * carried, with their `expires` (docs/data-model.md says why).
 */
import fs from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Kysely } from 'kysely';
import type { StreamChat } from 'stream-chat';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/database/database.types.js';
import { createManualClock, formatMicros } from '../../src/lib/time.js';
import { V2_LINE_TYPES } from '../../src/modules/exports/export-lines.js';
import { RECORD_KINDS } from '../../src/modules/imports/import-records.js';
import { testDialects } from '../helpers/databases.js';
import { channelMuteLineV2 } from '../helpers/export-encoders.js';
import { channelTruth, expectSameEntities, Replica } from '../helpers/export-replica.js';
import { exportAndDownload, parseV2, waitForTask, type V1Record } from '../helpers/exports.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

type Json = Record<string, unknown>;

function schemaOf(name: string): Json {
  return JSON.parse(
    fs.readFileSync(new URL(`../../docs/schemas/${name}.schema.json`, import.meta.url), 'utf8'),
  );
}

/** The documented JSON Schemas (docs/schemas); the user export's refers to the v1 channel export's. */
function validator(name: string) {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  ajv.addSchema(schemaOf('channel-export-v1'));
  const validate =
    name === 'channel-export-v1' ? ajv.getSchema(schemaOf(name).$id as string)! : ajv.compile(schemaOf(name));
  return (value: unknown) => expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
}

describe('the v2 line types are declared once', () => {
  it('the JSON Schema lists them in their order, and the importer reads all but tombstones', () => {
    const schema = schemaOf('channel-export-v2') as { properties: { type: { enum: string[] } } };
    expect(schema.properties.type.enum).toEqual([...V2_LINE_TYPES]);
    expect(RECORD_KINDS).toEqual(V2_LINE_TYPES.filter((type) => type !== 'tombstone'));
  });
});

describe.each(testDialects)('channel mutes in exports (%s)', (dialect) => {
  const clock = createManualClock(Math.floor(Date.now() / 1000) * 1_000_000);
  const matchesV1 = validator('channel-export-v1');
  const matchesV2 = validator('channel-export-v2');
  const matchesUserLine = validator('user-export');
  let t: TestServer;
  let client: StreamChat;
  let db: Kysely<Database>;
  let appId: number;

  beforeAll(async () => {
    t = await startTestServer(dialect, { clock });
    client = t.app.client;
    db = t.server.context.db;
    appId = t.app.id;
    await client.upsertUsers(['ann', 'ben', 'cat', 'dan'].map((id) => ({ id, name: id.toUpperCase() })));
    for (const id of ['general', 'other'])
      await client
        .channel('messaging', id, { created_by_id: 'ann', members: ['ann', 'ben'] } as never)
        .create();
    await client.channel('messaging', 'general').sendMessage({ id: 'm-1', text: 'hi', user_id: 'ann' });
    // ben until unmuted; dan (no member) for a second, long past; cat another channel only.
    await client.channel('messaging', 'general').mute({ user_id: 'ben' });
    clock.advanceMillis(1);
    await client.channel('messaging', 'general').mute({ user_id: 'dan', expiration: 1000 } as never);
    clock.advanceMillis(1);
    await client.channel('messaging', 'other').mute({ user_id: 'cat' });
    clock.advanceMillis(5000);
  });
  afterAll(async () => {
    await t?.close();
  });

  async function mutesOf(cid: string) {
    return db
      .selectFrom('channel_mutes')
      .select(['app_id', 'user_id', 'cid', 'created_at', 'updated_at', 'expires_at'])
      .where('app_id', '=', appId)
      .where('cid', '=', cid)
      .orderBy('created_at')
      .orderBy('user_id')
      .execute();
  }

  const general = [{ type: 'messaging', id: 'general' }];

  it('a v1 record carries every mute of its channel, expired ones too, without the channel', async () => {
    const { task, text } = await exportAndDownload(client, general, { export_users: true });
    const file = JSON.parse(text) as Array<V1Record & { channel_mutes: Json[] }>;
    matchesV1(file);
    const [record] = file;
    const stored = await mutesOf('messaging:general');
    expect(stored.map((m) => m.user_id)).toEqual(['ben', 'dan']);
    expect(stored[1]!.expires_at).toBeLessThan(clock.nowMicros());
    expect(record!.channel_mutes).toEqual(
      stored.map((m) => ({
        user: expect.objectContaining({ id: m.user_id, name: m.user_id.toUpperCase() }),
        created_at: formatMicros(m.created_at),
        updated_at: formatMicros(m.updated_at),
        ...(m.expires_at === null ? {} : { expires: formatMicros(m.expires_at) }),
      })),
    );
    expect(Object.keys(record!)).toEqual(['channel', 'members', 'channel_mutes', 'messages', 'users']);
    // With export_users, a muting user who is not a member is carried too.
    expect(record!.users!.map((u) => u.id)).toContain('dan');
    expect(task.result).toMatchObject({ channels: 1, members: 2, channel_mutes: 2 });
  });

  it('a v2 file carries a channel_mute line per stored mute, after the members, as the reference encodes it', async () => {
    const { task, text } = await exportAndDownload(client, general, { version: 'v2', export_users: true });
    const lines = parseV2(text);
    for (const line of lines) matchesV2(line);
    const channel = { type: 'messaging', id: 'general' };
    const expected = (await mutesOf('messaging:general')).map((m) => channelMuteLineV2(m, channel)).join('');
    const muteText = text
      .split('\n')
      .filter((line) => line.startsWith('{"type":"channel_mute"'))
      .map((line) => `${line}\n`)
      .join('');
    expect(muteText).toBe(expected);
    // Lines come in the declared order of their types.
    const order = lines.map((line) => V2_LINE_TYPES.indexOf(line.type as never));
    expect(order.every((index) => index >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(lines.filter((line) => line.type === 'user').map((line) => line.data.id)).toContain('dan');
    expect(task.result).toMatchObject({ channel_mutes: 2 });
  });

  it('an incremental export carries mutes made after its cursor, and an unmute as a tombstone', async () => {
    const full = await exportAndDownload(client, general, { version: 'v2' });
    const replica = new Replica();
    replica.apply(parseV2(full.text));
    const cursor = full.task.result!.cursor as string;

    const nothing = await exportAndDownload(client, general, { version: 'v2', since_cursor: cursor });
    expect(parseV2(nothing.text).map((line) => line.type)).toEqual(['channel']);

    clock.advanceMillis(1);
    await client.channel('messaging', 'general').mute({ user_id: 'cat' });
    // Muted again: a new expiry, a new updated_at.
    await client.channel('messaging', 'general').mute({ user_id: 'dan', expiration: 3_600_000 } as never);
    await client.channel('messaging', 'general').unmute({ user_id: 'ben' });

    const v2 = await exportAndDownload(client, general, { version: 'v2', since_cursor: cursor });
    const lines = parseV2(v2.text);
    for (const line of lines) matchesV2(line);
    // Changed mutes in (created_at, user_id) order: dan's, muted again, keeps its creation.
    expect(lines.map(Replica.keyOf)).toEqual([
      'channel:messaging:general',
      'tombstone:channel_mute:ben',
      'channel_mute:dan',
      'channel_mute:cat',
    ]);
    expect(v2.task.result).toMatchObject({ channel_mutes: 2, tombstones: 1 });
    replica.apply(lines);
    expectSameEntities(
      replica,
      await channelTruth(db, appId, 'messaging:general'),
      parseV2((await exportAndDownload(client, general, { version: 'v2' })).text),
    );

    const v1 = await exportAndDownload(client, general, { since_cursor: cursor });
    const file = JSON.parse(v1.text) as Array<{ channel_mutes: Json[]; tombstones: Json[] }>;
    matchesV1(file);
    expect(file[0]!.channel_mutes.map((m) => (m.user as Json).id)).toEqual(['dan', 'cat']);
    expect(file[0]!.tombstones).toEqual([
      expect.objectContaining({ entity: 'channel_mute', user_id: 'ben', channel_id: 'general' }),
    ]);

    // From the newer cursor, nothing has changed.
    const after = await exportAndDownload(client, general, {
      version: 'v2',
      since_cursor: v2.task.result!.cursor,
    });
    expect(parseV2(after.text).map((line) => line.type)).toEqual(['channel']);
  });

  it('user exports carry every mute the user holds, with the muted channel', async () => {
    await client.channel('messaging', 'other').mute({ user_id: 'dan', expiration: 1 } as never);
    clock.advanceMillis(10);
    const stored = await db
      .selectFrom('channel_mutes')
      .select(['cid', 'expires_at'])
      .where('app_id', '=', appId)
      .where('user_id', '=', 'dan')
      .orderBy('created_at')
      .orderBy('cid')
      .execute();
    expect(stored.map((m) => m.cid)).toEqual(['messaging:general', 'messaging:other']);

    const sync = (await client.exportUser('dan')) as unknown as { channel_mutes: Json[] };
    expect(sync.channel_mutes).toEqual(
      stored.map((m) =>
        expect.objectContaining({
          user: expect.objectContaining({ id: 'dan' }),
          channel: expect.objectContaining({ cid: m.cid }),
          expires: formatMicros(m.expires_at!),
        }),
      ),
    );

    const { task_id } = await client.exportUsers({ user_ids: ['dan'] });
    const task = await waitForTask(client, task_id!);
    expect(task.status, JSON.stringify(task.error)).toBe('completed');
    const text = await (await fetch(task.result!.url!)).text();
    const lines = text
      .split('\n')
      .filter((line) => line)
      .map((line) => JSON.parse(line) as { type: string; user_id: string; data: Json });
    for (const line of lines) matchesUserLine(line);
    const mutes = lines.filter((line) => line.type === 'channel_mute');
    expect(mutes.map((line) => (line.data.channel as Json).cid)).toEqual(stored.map((m) => m.cid));
    expect(mutes.map((line) => line.data.expires)).toEqual(stored.map((m) => formatMicros(m.expires_at!)));
    expect(lines.map((line) => line.type)).toEqual(['user', 'channel_mute', 'channel_mute']);
    expect(task.result).toMatchObject({ users: 1, members: 0, channel_mutes: 2 });
  });
});
