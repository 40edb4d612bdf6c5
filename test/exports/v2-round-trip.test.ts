import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importLines } from '../../src/modules/imports/imports.usecases.js';
import { testDialects } from '../helpers/databases.js';
import { exportAndDownload } from '../helpers/exports.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe.each(testDialects)('a v2 export imports again, into another app, unchanged (%s)', (dialect) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(dialect);
    const c = t.app.client;
    await c.upsertUsers([
      { id: 'ann', name: 'Ann', tags: ['a', 'b'] } as never,
      { id: 'ben', role: 'admin' },
      { id: 'cat' },
      { id: 'dan' },
    ]);
    // chatport has no ban or deactivation endpoint (the SDK's banUser / deactivateUser), so the two
    // columns are set as those endpoints would set them.
    const db = t.server.context.db;
    const appId = t.app.id;
    await db
      .updateTable('users')
      .set({ banned: 1 })
      .where('app_id', '=', appId)
      .where('id', '=', 'cat')
      .execute();
    await db
      .updateTable('users')
      .set({ deactivated_at: Date.parse('2026-01-02T03:04:05.678Z') * 1000 + 9 })
      .where('app_id', '=', appId)
      .where('id', '=', 'dan')
      .execute();
    const ch = c.channel('messaging', 'trip', {
      created_by_id: 'ann',
      members: ['ann', 'ben', 'cat'],
      colour: 'teal',
    } as never);
    await ch.create();
    // Every kind of member state: custom data, a role, an answered and a pending invitation, a
    // pinned, archived and hidden channel with cleared history.
    await ch.addMembers([{ user_id: 'dan', code_name: '006', gear: { car: 'DB5' } }] as never);
    await ch.assignRoles([{ user_id: 'ben', channel_role: 'channel_moderator' }]);
    await ch.pin({ user_id: 'ann' });
    await ch.archive({ user_id: 'ann' });
    await ch.hide('ben', true);
    const invites = c.channel('messaging', 'invites', {
      created_by_id: 'ann',
      members: ['ann'],
      invites: ['ben', 'cat'],
    } as never);
    await invites.create();
    await invites.acceptInvite({ user_id: 'ben' } as never);
    // Channel mutes: until unmuted, with an expiry, and by a user who is no member.
    await ch.mute({ user_id: 'ben' });
    await ch.mute({ user_id: 'dan', expiration: 3_600_000 } as never);
    await invites.mute({ user_id: 'cat', expiration: 86_400_000 } as never);
    await ch.sendMessage({
      id: 'r1',
      text: 'root',
      user_id: 'ann',
      mentioned_users: ['cat'],
      attachments: [{ type: 'x' }],
    });
    await ch.sendMessage({
      id: 'r1-a',
      text: 'reply',
      user_id: 'ben',
      parent_id: 'r1',
      show_in_channel: true,
    });
    await ch.sendMessage({
      id: 'q',
      text: 'quoting',
      user_id: 'cat',
      quoted_message_id: 'r1',
      mood: 'fine',
    } as never);
    await ch.sendMessage({ id: 'del', text: 'deleted', user_id: 'cat' });
    await c.deleteMessage('del');
    await ch.sendReaction('r1', { type: 'like', user_id: 'ben', score: 2 });
    await ch.sendReaction('r1-a', { type: 'love', user_id: 'ann' });

    // Truncated by dan, a deactivated user the channel names nowhere else.
    const cut = c.channel('messaging', 'cut', { created_by_id: 'ann', members: ['ann'] } as never);
    await cut.create();
    await cut.sendMessage({ id: 'cut-old', text: 'before the truncation', user_id: 'ann' });
    await cut.truncate({ user_id: 'dan' } as never);
    await cut.sendMessage({ id: 'cut-new', text: 'after the truncation', user_id: 'ann' });
  });
  afterAll(() => t.close());

  it('exporting the imported data gives back the same file, line for line', async () => {
    const options = { version: 'v2', export_users: true };
    const channels = [{ cid: 'messaging:trip' }, { cid: 'messaging:cut' }, { cid: 'messaging:invites' }];
    const original = await exportAndDownload(t.app.client, channels, options);
    expect(original.text).toContain('"id":"cat","role":"user","teams":[],"banned":true,');
    expect(original.text).toContain('"deactivated_at":"2026-01-02T03:04:05.678009Z"');
    expect(original.text).toContain('"truncated_by":"dan"');
    for (const field of [
      '"code_name":"006"',
      '"pinned_at"',
      '"archived_at"',
      '"hidden":true',
      '"hide_messages_before"',
    ])
      expect(original.text).toContain(field);
    expect(original.text).toContain('"user_id":"ben","channel_role":"channel_member","created_at"');
    expect(original.text).toMatch(
      /\{"type":"channel_mute","data":\{"user_id":"dan","channel_type":"messaging","channel_id":"trip","created_at":"[^"]+","updated_at":"[^"]+","expires":"[^"]+"\}\}/,
    );
    expect(original.text).toMatch(
      /"user_id":"ben","channel_role":"channel_member".*"invited":true,"invite_accepted_at"/,
    );
    const target = await t.createTestApp('target');
    const targetId = target.id;
    const counts = await importLines({
      dialect: t.server.context.dialect,
      clock: t.server.context.clock,
      appId: targetId,
      input: Readable.from([original.text]),
    });
    expect(counts).toEqual({
      users: 4,
      channels: 3,
      members: 8,
      channel_mutes: 3,
      messages: 5,
      reactions: 2,
    });
    const copy = await exportAndDownload(target.client, channels, options);
    expect(copy.text.split('\n')).toEqual(original.text.split('\n'));
    const { users } = await target.client.queryUsers(
      { id: { $in: ['cat', 'dan'] } },
      { id: 1 },
      { include_deactivated_users: true },
    );
    expect(users).toMatchObject([
      { id: 'cat', banned: true },
      { id: 'dan', banned: false, deactivated_at: '2026-01-02T03:04:05.678009Z' },
    ]);
    const cut = await target.client.channel('messaging', 'cut').query({ messages: { limit: 10 } });
    expect(cut.channel).toMatchObject({ truncated_by: { id: 'dan' } });
    expect(cut.messages.map((m) => m.id)).toEqual(['cut-new']);
    const [state] = await target.client.queryChannels({ cid: 'messaging:trip' });
    expect(state!.data!.member_count).toBe(4);
    const { members } = await target.client
      .channel('messaging', 'invites')
      .queryMembers({ invite: 'pending' });
    expect(members.map((m) => m.user_id)).toEqual(['cat']);
    // The imported mutes are in force again: each user's channel_mutes shows them.
    const muted = await target.client.queryUsers(
      { id: { $in: ['ben', 'cat', 'dan'] } },
      { id: 1 },
      { include_deactivated_users: true },
    );
    expect(
      muted.users.map((u) => [
        u.id,
        (u as unknown as { channel_mutes: Array<{ channel: { cid: string } }> }).channel_mutes.map(
          (m) => m.channel.cid,
        ),
      ]),
    ).toEqual([
      ['ben', ['messaging:trip']],
      ['cat', ['messaging:invites']],
      ['dan', ['messaging:trip']],
    ]);
    expect((await target.client.getMessage('r1')).message).toMatchObject({
      reply_count: 1,
      reaction_counts: { like: 1 },
    });
  });
});
