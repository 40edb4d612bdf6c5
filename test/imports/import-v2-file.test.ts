import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from '../../src/context.js';
import { channelLineV2, memberLineV2, userLineV2 } from '../../src/modules/exports/export-serializers.js';
import { channelMuteLineV2, messageLineV2, reactionLineV2 } from '../helpers/export-encoders.js';
import { testDialects } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { appIdOf, importFile, importText, linesOf, snapshot, SMALL_V2_FILE } from './import-support.js';

type Snapshot = Awaited<ReturnType<typeof snapshot>>;

/** The line a v2 export writes for the stored row that `line` imported. */
function exportedLineFor(line: string, stored: Snapshot): string {
  const { type, data } = JSON.parse(line) as { type: string; data: Record<string, string> };
  const channelOf = (cid: string) => stored.channels.find((c) => c.cid === cid)!;
  const cid = `${data.channel_type}:${data.channel_id}`;
  switch (type) {
    case 'user':
      return userLineV2(stored.users.find((u) => u.id === data.id)!);
    case 'channel':
      return channelLineV2(channelOf(data.cid!));
    case 'member':
      return memberLineV2(
        stored.members.find((m) => m.cid === cid && m.user_id === data.user_id)!,
        channelOf(cid),
      );
    case 'channel_mute':
      return channelMuteLineV2(
        stored.channelMutes.find((m) => m.cid === cid && m.user_id === data.user_id)!,
        channelOf(cid),
      );
    case 'message':
      return messageLineV2(
        stored.messages.find((m) => m.id === data.id)!,
        channelOf(cid),
        false,
      );
    default:
      return reactionLineV2(
        stored.reactions.find(
          (r) => r.message_id === data.message_id && r.user_id === data.user_id && r.type === data.type,
        )!,
      );
  }
}

describe.each(testDialects)('importing a v2 file (%s)', (dialect) => {
  let t: TestServer;
  let context: Context;
  let appId: number;
  let firstCounts: Awaited<ReturnType<typeof importFile>>;

  beforeAll(async () => {
    t = await startTestServer(dialect);
    context = t.server.context;
    appId = await appIdOf(context, t.app.apiKey);
    firstCounts = await importFile(context, appId, SMALL_V2_FILE);
  });
  afterAll(() => t.close());

  it('counts the lines of each type', () => {
    expect(firstCounts).toEqual({
      users: 3,
      channels: 2,
      members: 4,
      channel_mutes: 2,
      messages: 6,
      reactions: 4,
    });
  });

  it('stores what a v2 export writes back line for line, counters included', async () => {
    const stored = await snapshot(context.db, appId);
    const lines = fs.readFileSync(SMALL_V2_FILE, 'utf8').trimEnd().split('\n');
    for (const line of lines) expect(exportedLineFor(line, stored)).toBe(`${line}\n`);
  });

  it('serves the users through the API with their custom fields, times, ban, deactivation and deletion', async () => {
    const { users } = await t.app.client.queryUsers(
      { id: { $in: ['ann', 'ben', 'cat'] } },
      { id: 1 },
      { include_deactivated_users: true },
    );
    expect(users).toMatchObject([
      {
        id: 'ann',
        name: 'Ann',
        role: 'admin',
        teams: ['red'],
        created_at: '2023-05-01T10:00:00.000000Z',
        updated_at: '2023-05-02T10:00:00.000000Z',
      },
      {
        id: 'ben',
        name: 'Ben',
        favourite: { colour: 'green', numbers: [1, 2] },
        banned: true,
        created_at: '2023-05-01T10:00:01.000001Z',
        deactivated_at: '2023-07-01T00:00:00.000000Z',
      },
      { id: 'cat', role: 'user', banned: false, deleted_at: '2023-06-01T00:00:00.000000Z' },
    ]);
    expect(users[0]).toMatchObject({ banned: false });
    expect(users[0]!.deactivated_at).toBeUndefined();
  });

  it('serves the channel with its members, its messages in order and the newest shown message time', async () => {
    const state = await t.app.client.channel('messaging', 'general').query({ messages: { limit: 50 } });
    expect(state.channel).toMatchObject({
      cid: 'messaging:general',
      name: 'General',
      topic: 'anything "goes"',
      created_by: { id: 'ann' },
      member_count: 3,
      frozen: false,
      created_at: '2023-05-01T11:00:00.000000Z',
      updated_at: '2023-05-01T11:30:00.000000Z',
      last_message_at: '2023-05-01T12:03:00.000000Z',
    });
    expect(state.members.map((m) => [m.user_id, m.channel_role])).toEqual([
      ['ann', 'owner'],
      ['ben', 'channel_member'],
      ['cat', 'channel_moderator'],
    ]);
    // m2 is a reply not shown in the channel; m4 was soft-deleted and still shows as deleted.
    expect(state.messages.map((m) => [m.id, m.type])).toEqual([
      ['m1', 'regular'],
      ['m3', 'reply'],
      ['m4', 'deleted'],
    ]);
    expect(state.messages[2]).toMatchObject({ deleted_at: '2023-05-01T12:04:00.000000Z', text: 'oops' });
  });

  it('serves the thread parent with its reply count, reactions, attachments and custom fields', async () => {
    const { message } = await t.app.client.getMessage('m1');
    expect(message).toMatchObject({
      id: 'm1',
      text: 'Hello <everyone> & welcome',
      html: '<p>Hello &lt;everyone&gt; &amp; welcome</p>\n',
      user: { id: 'ann', name: 'Ann' },
      reply_count: 2,
      reaction_counts: { like: 2, love: 1 },
      reaction_scores: { like: 3, love: 1 },
      attachments: [{ type: 'image', image_url: 'https://example.com/a.png' }],
      mentioned_users: [{ id: 'ben' }],
      pinned: true,
      priority: 'high',
      created_at: '2023-05-01T12:00:00.123456Z',
      updated_at: '2023-05-01T12:05:00.000000Z',
    });
    const love = message.latest_reactions?.find((r) => r.type === 'love');
    expect(love).toMatchObject({ user_id: 'ann', emoji: '❤️' });
    const replies = await t.app.client.channel('messaging', 'general').getReplies('m1', { limit: 10 });
    expect(replies.messages.map((m) => [m.id, m.parent_id, m.show_in_channel ?? false])).toEqual([
      ['m2', 'm1', false],
      ['m3', 'm1', true],
    ]);
    expect((await t.app.client.getMessage('m2')).message.reaction_counts).toEqual({ like: 1 });
  });

  it('keeps a truncation: messages before truncated_at stay hidden', async () => {
    const state = await t.app.client.channel('team', 'quiet').query({ messages: { limit: 50 } });
    expect(state.channel).toMatchObject({
      frozen: true,
      truncated_at: '2023-05-03T00:00:00.000000Z',
      truncated_by: { id: 'ann' },
      member_count: 1,
    });
    expect(state.messages.map((m) => [m.id, m.type])).toEqual([['q2', 'system']]);
  });

  it('changes nothing when the same file is imported again', async () => {
    const before = await snapshot(context.db, appId);
    const counts = await importFile(context, appId, SMALL_V2_FILE);
    expect(counts).toEqual(firstCounts);
    expect(await snapshot(context.db, appId)).toEqual(before);
    expect((await t.app.client.getMessage('m1')).message).toMatchObject({
      reply_count: 2,
      reaction_counts: { like: 2, love: 1 },
    });
  });

  it('keeps a ban, a deactivation and who truncated when a line does not name them, and clears them on null', async () => {
    const before = await snapshot(context.db, appId);
    // The fixture's lines for ben and team:quiet as Stream's import files write them: without the fields.
    const [benLine, quietLine] = fs
      .readFileSync(SMALL_V2_FILE, 'utf8')
      .split('\n')
      .filter((line) => line.includes('"id":"ben"') || line.includes('"cid":"team:quiet"'))
      .map((line) => JSON.parse(line) as { type: string; data: Record<string, unknown> });
    const without = (entry: typeof benLine, ...keys: string[]) => ({
      type: entry!.type,
      data: Object.fromEntries(Object.entries(entry!.data).filter(([key]) => !keys.includes(key))),
    });
    await importText(
      context,
      appId,
      linesOf([without(benLine, 'banned', 'deactivated_at'), without(quietLine, 'truncated_by')]),
    );
    expect(await snapshot(context.db, appId)).toEqual(before);

    const cleared = linesOf([
      { type: 'user', data: { ...benLine!.data, banned: false, deactivated_at: null } },
      { type: 'channel', data: { ...quietLine!.data, truncated_by: null } },
    ]);
    await importText(context, appId, cleared);
    const after = await snapshot(context.db, appId);
    expect(after.users.find((u) => u.id === 'ben')).toMatchObject({ banned: 0, deactivated_at: null });
    expect(after.channels.find((c) => c.cid === 'team:quiet')).toMatchObject({ truncated_by_id: null });

    await importFile(context, appId, SMALL_V2_FILE);
    expect(await snapshot(context.db, appId)).toEqual(before);
  });

  it('keeps the data of another app apart', async () => {
    const other = await t.createTestApp('other');
    await importFile(context, await appIdOf(context, other.apiKey), SMALL_V2_FILE, { batchSize: 5 });
    await other.client.partialUpdateUser({ id: 'ann', set: { name: 'Ann in the other app' } });
    const { users } = await t.app.client.queryUsers({ id: 'ann' });
    expect(users[0]).toMatchObject({ name: 'Ann' });
    expect((await other.client.getMessage('m1')).message.reply_count).toBe(2);
  });
});
