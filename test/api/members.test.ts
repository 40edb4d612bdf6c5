/**
 * Stream's membership model through the `stream-chat` SDK, as Stream's documentation pages for
 * channel members, invites, hiding, pinning and archiving use it (server side).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamChat } from 'stream-chat';
import { testDialects } from '../helpers/databases.js';
import { expectStreamError, expectTimestampsEverywhere } from '../helpers/assertions.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

type Member = Record<string, unknown> & { user_id?: string };

async function membersOf(client: StreamChat, id: string): Promise<Map<string, Member>> {
  const state = await client.channel('messaging', id).query({ members: { limit: 100 } } as never);
  return new Map((state.members as Member[]).map((m) => [m.user_id!, m]));
}

describe.each(testDialects)('channel members through the stream-chat SDK (%s)', (dialect) => {
  let t: TestServer;
  let client: StreamChat;
  beforeAll(async () => {
    t = await startTestServer(dialect);
    client = t.app.client;
    await client.upsertUsers(
      ['ann', 'ben', 'cat', 'dan', 'eve', 'fay'].map((id) => ({ id, name: id.toUpperCase() })),
    );
  });
  afterAll(() => t.close());

  describe('member data and roles', () => {
    it('keeps custom data of members named as objects, at creation and when added', async () => {
      const channel = client.channel('messaging', 'agents', {
        created_by_id: 'ann',
        members: [{ user_id: 'ann', channel_role: 'channel_moderator', rank: 1 }, 'ben'],
      } as never);
      const created = await channel.create();
      expect(created.channel.member_count).toBe(2);
      const added = await channel.addMembers([{ user_id: 'cat', code_name: '006' } as never]);
      expect(added.channel.member_count).toBe(3);
      const cat = (added.members as Member[]).find((m) => m.user_id === 'cat');
      expect(cat).toMatchObject({ code_name: '006', channel_role: 'channel_member', invited: false });
      const members = await membersOf(client, 'agents');
      expect(members.get('ann')).toMatchObject({
        rank: 1,
        channel_role: 'channel_moderator',
        role: 'moderator',
      });
      expect(members.get('ben')!.code_name).toBeUndefined();
      expectTimestampsEverywhere([...members.values()]);
    });

    it('adds custom data and a role to a member added again, counting them once', async () => {
      const channel = client.channel('messaging', 'agents');
      const again = await channel.addMembers([
        { user_id: 'ben', channel_role: 'channel_moderator', alias: 'Q' },
      ] as never);
      expect(again.channel.member_count).toBe(3);
      const ben = (await membersOf(client, 'agents')).get('ben')!;
      expect(ben).toMatchObject({ alias: 'Q', channel_role: 'channel_moderator' });
    });

    it('refuses a member entry that sets a field the server keeps, and changes nothing', async () => {
      const channel = client.channel('messaging', 'agents');
      await expectStreamError(
        channel.addMembers([{ user_id: 'dan', created_at: '2020-01-01T00:00:00Z' }] as never),
        { status: 400, code: 4 },
      );
      expect((await membersOf(client, 'agents')).has('dan')).toBe(false);
    });

    it('promotes and demotes moderators and assigns roles', async () => {
      const channel = client.channel('messaging', 'agents');
      await channel.addModerators(['cat']);
      expect((await membersOf(client, 'agents')).get('cat')!.channel_role).toBe('channel_moderator');
      await channel.demoteModerators(['cat', 'ben']);
      let members = await membersOf(client, 'agents');
      expect(members.get('cat')!.channel_role).toBe('channel_member');
      expect(members.get('ben')!.channel_role).toBe('channel_member');
      await channel.assignRoles([{ user_id: 'cat', channel_role: 'channel_moderator' }]);
      members = await membersOf(client, 'agents');
      expect(members.get('cat')).toMatchObject({ channel_role: 'channel_moderator', role: 'moderator' });
    });

    it('refuses roles for users who are not members, changing none of the others', async () => {
      const channel = client.channel('messaging', 'agents');
      const error = await expectStreamError(channel.addModerators(['ben', 'dan']), { status: 400, code: 4 });
      expect(error.exception_fields).toHaveProperty('add_moderators');
      expect((await membersOf(client, 'agents')).get('ben')!.channel_role).toBe('channel_member');
    });

    it('sets and unsets member custom data with updateMemberPartial, dotted paths included', async () => {
      const channel = client.channel('messaging', 'agents');
      const first = await channel.updateMemberPartial(
        { set: { code_name: '007', details: { gadget: 'pen', car: 'DB5' } } } as never,
        { userId: 'cat' },
      );
      expect(first.channel_member).toMatchObject({ user_id: 'cat', code_name: '007' });
      const second = await channel.updateMemberPartial(
        { set: { 'details.gadget': 'watch' }, unset: ['details.car'] } as never,
        { userId: 'cat' },
      );
      expect((second.channel_member as Member).details).toEqual({ gadget: 'watch' });
      const third = await channel.updateMemberPartial({ unset: ['code_name'] } as never, { userId: 'cat' });
      expect((third.channel_member as Member).code_name).toBeUndefined();
      expect((await membersOf(client, 'agents')).get('cat')!.details).toEqual({ gadget: 'watch' });
    });

    it('refuses a partial update of a non-member or of a field the server keeps', async () => {
      const channel = client.channel('messaging', 'agents');
      await expectStreamError(channel.updateMemberPartial({ set: { x: 1 } } as never, { userId: 'dan' }), {
        status: 404,
        code: 16,
      });
      await expectStreamError(
        channel.updateMemberPartial({ set: { channel_role: 'owner' } } as never, { userId: 'cat' }),
        { status: 400, code: 4 },
      );
      await expectStreamError(
        channel.updateMemberPartial({ set: { pinned: 'yes' } } as never, { userId: 'cat' }),
        { status: 400, code: 4 },
      );
    });

    it('pins, unpins, archives and unarchives the channel for one member', async () => {
      const channel = client.channel('messaging', 'agents');
      const pinned = await channel.pin({ user_id: 'ben' });
      expect(pinned.pinned_at).toEqual(expect.any(String));
      const archived = await channel.archive({ user_id: 'ben' });
      expect(archived.archived_at).toEqual(expect.any(String));
      expect(archived.pinned_at).toBe(pinned.pinned_at);
      let ben = (await membersOf(client, 'agents')).get('ben')!;
      expect(ben).toMatchObject({ pinned_at: pinned.pinned_at, archived_at: archived.archived_at });
      expect((await membersOf(client, 'agents')).get('cat')!.pinned_at).toBeUndefined();
      await channel.unpin({ user_id: 'ben' });
      await channel.unarchive({ user_id: 'ben' });
      ben = (await membersOf(client, 'agents')).get('ben')!;
      expect(ben.pinned_at).toBeUndefined();
      expect(ben.archived_at).toBeUndefined();
    });

    it('announces added and removed members with a system message', async () => {
      const channel = client.channel('messaging', 'agents');
      const added = await channel.addMembers(['dan'], { text: 'Dan joined', user_id: 'ann' } as never);
      expect(added.message).toMatchObject({ type: 'system', text: 'Dan joined' });
      const removed = await channel.removeMembers(['dan'], { text: 'Dan left', user_id: 'ann' } as never);
      expect(removed.message).toMatchObject({ type: 'system', text: 'Dan left' });
      expect(removed.channel.member_count).toBe(3);
    });

    it('hides the earlier history from a member added with hide_history', async () => {
      const channel = client.channel('messaging', 'history', {
        created_by_id: 'ann',
        members: ['ann'],
      } as never);
      await channel.create();
      await channel.sendMessage({ text: 'before', user_id: 'ann' } as never);
      await channel.addMembers(['ben'], undefined, { hide_history: true } as never);
      await channel.sendMessage({ text: 'after', user_id: 'ann' } as never);
      const forBen = await client.queryChannels({ cid: 'messaging:history' }, {}, {
        user_id: 'ben',
      } as never);
      expect(forBen[0]!.state.messages.map((m) => m.text)).toEqual(['after']);
      const forAnn = await client.queryChannels({ cid: 'messaging:history' }, {}, {
        user_id: 'ann',
      } as never);
      expect(forAnn[0]!.state.messages.map((m) => m.text)).toEqual(['before', 'after']);
    });
  });
});
