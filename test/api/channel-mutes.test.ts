/**
 * A user's `channel_mutes` wherever Stream's spec shows them (FullUserResponse: queryUsers, upsertUsers,
 * partialUpdateUser; OwnUserResponse: the mute's `own_user`), in both API generations, held to the
 * database's own rows: the mutes in force, oldest first, an expired one left out but kept stored.
 */
import { StreamClient } from '@stream-io/node-sdk';
import type { Kysely } from 'kysely';
import type { StreamChat } from 'stream-chat';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/database/database.types.js';
import { createManualClock, formatMicros } from '../../src/lib/time.js';
import { expectStreamError } from '../helpers/assertions.js';
import { testDialects } from '../helpers/databases.js';
import { sdkTypeProblems } from '../helpers/sdk-types.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

type Json = Record<string, unknown>;
type Mute = { user: Json; channel: Json; created_at: string; updated_at: string; expires?: string };

describe.each(testDialects)("a user's channel_mutes carry their mutes in force (%s)", (dialect) => {
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
    await client.upsertUsers(['ann', 'ben', 'cat', 'dan'].map((id) => ({ id })));
    for (const id of ['quiet', 'loud', 'brief', 'doomed'])
      await client
        .channel('messaging', id, { created_by_id: 'ann', members: ['ann', 'ben', 'cat'] } as never)
        .create();
  });
  afterAll(async () => {
    await t?.close();
  });

  /** The database's mutes of the user in force now, as the API must show them. */
  async function liveMutes(userId: string) {
    const now = clock.nowMicros();
    const rows = await db
      .selectFrom('channel_mutes')
      .select(['cid', 'created_at', 'updated_at', 'expires_at'])
      .where('app_id', '=', appId)
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('cid')
      .execute();
    return rows
      .filter((row) => row.expires_at === null || row.expires_at > now)
      .map((row) => ({
        user: { id: userId },
        channel: { cid: row.cid },
        created_at: formatMicros(row.created_at),
        updated_at: formatMicros(row.updated_at),
        ...(row.expires_at === null ? {} : { expires: formatMicros(row.expires_at) }),
      }));
  }

  const mutesOf = (user: unknown) => (user as Json | undefined)?.channel_mutes as Mute[] | undefined;

  it('queryUsers, upsertUsers and partialUpdateUser answer each user their mutes in force, oldest first', async () => {
    await client.channel('messaging', 'quiet').mute({ user_id: 'ben' });
    clock.advanceMillis(1);
    await client.channel('messaging', 'brief').mute({ user_id: 'ben', expiration: 1000 } as never);
    clock.advanceMillis(1);
    await client.channel('messaging', 'loud').mute({ user_id: 'cat' });

    const queried = async () => {
      const { users } = await client.queryUsers({ id: { $in: ['ann', 'ben', 'cat'] } }, { id: 1 });
      return new Map(users.map((user) => [user.id, user as unknown]));
    };
    let users = await queried();
    expect(mutesOf(users.get('ann'))).toEqual([]);
    expect(mutesOf(users.get('ben'))!.map((m) => m.channel.cid)).toEqual([
      'messaging:quiet',
      'messaging:brief',
    ]);
    for (const id of ['ben', 'cat']) expect(mutesOf(users.get(id)), id).toMatchObject(await liveMutes(id));
    // Each embeds its user and its channel whole (the v1 form: custom data flattened).
    const [quiet] = mutesOf(users.get('ben'))!;
    expect(quiet).toMatchObject({
      user: { id: 'ben', role: 'user' },
      channel: { id: 'quiet', type: 'messaging' },
    });
    expect(quiet).not.toHaveProperty('expires');
    expect(mutesOf(users.get('ben'))![1]!.expires).toEqual(expect.any(String));

    // Past its expiry a mute is no longer shown, but stays stored (exports carry it).
    clock.advanceMillis(2000);
    users = await queried();
    expect(mutesOf(users.get('ben'))!.map((m) => m.channel.cid)).toEqual(['messaging:quiet']);
    expect(mutesOf(users.get('ben'))).toMatchObject(await liveMutes('ben'));
    const stored = await db
      .selectFrom('channel_mutes')
      .select('cid')
      .where('app_id', '=', appId)
      .where('user_id', '=', 'ben')
      .execute();
    expect(stored.map((row) => row.cid).sort()).toEqual(['messaging:brief', 'messaging:quiet']);

    const upserted = await client.upsertUsers([{ id: 'ben', name: 'Ben' }, { id: 'dan' }]);
    expect(mutesOf(upserted.users.ben)).toMatchObject(await liveMutes('ben'));
    expect(mutesOf(upserted.users.dan)).toEqual([]);
    const updated = await client.partialUpdateUser({ id: 'cat', set: { mood: 'calm' } as never });
    expect(mutesOf(updated.users.cat)!.map((m) => m.channel.cid)).toEqual(['messaging:loud']);
  });

  it("answers a mute with the user's own_user and their fresh channel_mutes", async () => {
    const answer = (await client
      .channel('messaging', 'loud')
      .mute({ user_id: 'ann', expiration: 60_000 } as never)) as unknown as Json & {
      channel_mute: Mute;
      channel_mutes: Mute[];
      own_user: Json;
    };
    expect(answer.channel_mute).toMatchObject({ user: { id: 'ann' }, channel: { cid: 'messaging:loud' } });
    expect(answer.own_user).toMatchObject({ id: 'ann' });
    expect(mutesOf(answer.own_user)).toEqual(answer.channel_mutes);
    expect(answer.channel_mutes).toMatchObject(await liveMutes('ann'));
    await client.channel('messaging', 'loud').unmute({ user_id: 'ann' });
    const { users } = await client.queryUsers({ id: 'ann' });
    expect(mutesOf(users[0])).toEqual([]);
  });

  it('answers the same mutes in the v2 form through @stream-io/node-sdk', async () => {
    const v2 = new StreamClient(t.app.apiKey, t.app.apiSecret, { basePath: t.baseURL, timeout: 20_000 });
    const muted = await v2.chat.muteChannel({ channel_cids: ['messaging:loud'], user_id: 'dan' });
    expect(muted.own_user?.channel_mutes.map((m) => m.channel?.cid)).toEqual(['messaging:loud']);
    // Every field the SDK's types promise, of the promised type, nested mutes included.
    expect(sdkTypeProblems(muted.own_user, 'OwnUserResponse')).toEqual([]);
    expect(sdkTypeProblems(muted.channel_mute, 'ChannelMute')).toEqual([]);
    const { users } = await v2.queryUsers({
      payload: { filter_conditions: { id: { $in: ['ben', 'dan'] } } },
    });
    for (const user of users) expect(sdkTypeProblems(user, 'FullUserResponse')).toEqual([]);
    const byId = new Map(users.map((user) => [user.id, user]));
    // The SDK decodes times into Dates: compared as instants.
    const instants = (mutes: Array<{ channel?: { cid: string }; created_at: Date | string }>) =>
      mutes.map((m) => [m.channel?.cid, new Date(m.created_at).getTime()]);
    expect(instants(byId.get('dan')!.channel_mutes)).toEqual(instants(await liveMutes('dan')));
    const [quiet] = byId.get('ben')!.channel_mutes;
    // The v2 form of the embedded user and channel: custom data under `custom`.
    expect(quiet).toMatchObject({
      user: { id: 'ben', custom: {} },
      channel: { cid: 'messaging:quiet', custom: {} },
    });
    await v2.chat.unmuteChannel({ channel_cids: ['messaging:loud'], user_id: 'dan' });
  });

  it('does not store a channel_mutes sent back in an upsert as custom data, and refuses to set it', async () => {
    const { users } = await client.queryUsers({ id: 'ben' });
    expect(mutesOf(users[0])).toHaveLength(1);
    await client.upsertUsers([users[0] as never]);
    const row = await db
      .selectFrom('users')
      .select('custom')
      .where('app_id', '=', appId)
      .where('id', '=', 'ben')
      .executeTakeFirstOrThrow();
    expect(JSON.parse(row.custom)).toEqual({ name: 'Ben' });
    await expectStreamError(client.partialUpdateUser({ id: 'ben', set: { channel_mutes: [] } as never }), {
      status: 400,
      code: 4,
    });
  });

  it('hard-deleting a user or a channel removes its mutes: a channel created again is not muted', async () => {
    await client.channel('messaging', 'doomed').mute({ user_id: 'ben' });
    await client.channel('messaging', 'doomed').mute({ user_id: 'dan' });
    const mutedCids = async (userId: string) =>
      (
        await db
          .selectFrom('channel_mutes')
          .select('cid')
          .where('app_id', '=', appId)
          .where('user_id', '=', userId)
          .orderBy('cid')
          .execute()
      ).map((row) => row.cid);
    expect(await mutedCids('dan')).toEqual(['messaging:doomed']);
    await client.deleteUser('dan', { hard_delete: true });
    expect(await mutedCids('dan')).toEqual([]);

    await client.channel('messaging', 'doomed').delete({ hard_delete: true } as never);
    expect(await mutedCids('ben')).not.toContain('messaging:doomed');
    await client.channel('messaging', 'doomed', { created_by_id: 'ann', members: ['ben'] } as never).create();
    const { users } = await client.queryUsers({ id: 'ben' });
    expect(mutesOf(users[0])!.map((m) => m.channel.cid)).toEqual(['messaging:quiet']);
  });
});
