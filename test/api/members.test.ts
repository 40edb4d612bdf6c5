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

    it('refuses dotted paths that would nest custom data deeper than any request may, changing nothing', async () => {
      const channel = client.channel('messaging', 'agents');
      const path = (levels: number) => Array.from({ length: levels }, () => 'a').join('.');
      // One name a megabyte long would build an object too deep to store or even serialise.
      await expectStreamError(
        channel.updateMemberPartial({ set: { [path(200_000)]: 1 } } as never, { userId: 'cat' }),
        { status: 400, code: 4 },
      );
      let deepValue: unknown = 1;
      for (let i = 0; i < 50; i++) deepValue = { b: deepValue };
      const error = await expectStreamError(
        channel.updateMemberPartial({ set: { [path(60)]: deepValue } } as never, { userId: 'cat' }),
        { status: 400, code: 4 },
      );
      expect(error.exception_fields).toHaveProperty('set');
      expect((await membersOf(client, 'agents')).get('cat')!.a).toBeUndefined();
      const fine = await channel.updateMemberPartial({ set: { [path(60)]: 1 } } as never, { userId: 'cat' });
      expect(JSON.stringify((fine.channel_member as Member).a)).toMatch(/^(\{"a":){59}1\}+$/);
      await channel.updateMemberPartial({ unset: ['a'] } as never, { userId: 'cat' });
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
      // The raw answers: the SDK's channel objects merge the messages of every query into one state.
      const texts = async (userId: string) =>
        (
          await client.queryChannelsRequest({ cid: 'messaging:history' }, {}, { user_id: userId } as never)
        )[0]!.messages.map((m) => m.text);
      expect(await texts('ben')).toEqual(['after']);
      expect(await texts('ann')).toEqual(['before', 'after']);
    });
  });

  describe('queryMembers', () => {
    const ids = (members: Member[]) => members.map((m) => m.user_id);
    let channel: ReturnType<StreamChat['channel']>;
    beforeAll(async () => {
      await client.upsertUsers([
        { id: 'tommaso', name: 'Tommaso Barbugli' },
        { id: 'thierry', name: 'Thierry S' },
        { id: 'nick', name: 'Nick Tom' },
        { id: 'jo', name: 'Jo' },
      ] as never);
      channel = client.channel('messaging', 'roster', {
        created_by_id: 'tommaso',
        members: [
          { user_id: 'tommaso', channel_role: 'channel_moderator', level: 5, team: 'core' },
          { user_id: 'thierry', level: 3, team: 'core' },
          { user_id: 'nick', level: 1, vip: true },
        ],
        invites: ['jo'],
      } as never);
      await channel.create();
    });

    it('lists every member, oldest first, invited ones included', async () => {
      const { members } = await channel.queryMembers({});
      // Created together: ties are ordered by user id.
      expect(ids(members as Member[])).toEqual(['jo', 'nick', 'thierry', 'tommaso']);
      expect((members as Member[]).find((m) => m.user_id === 'jo')!.invited).toBe(true);
    });

    it('filters by name, by autocomplete and by user id', async () => {
      expect(ids((await channel.queryMembers({ name: 'Jo' } as never)).members as Member[])).toEqual(['jo']);
      const tom = await channel.queryMembers({ name: { $autocomplete: 'tom' } } as never);
      expect(ids(tom.members as Member[]).sort()).toEqual(['nick', 'tommaso']);
      const some = await channel.queryMembers({ user_id: { $in: ['thierry', 'jo', 'nobody'] } } as never);
      expect(ids(some.members as Member[]).sort()).toEqual(['jo', 'thierry']);
      expect(ids((await channel.queryMembers({ id: 'nick' } as never)).members as Member[])).toEqual([
        'nick',
      ]);
    });

    it('filters by role, moderator status, ban, invitation and joining', async () => {
      const q = async (filter: object) =>
        ids((await channel.queryMembers(filter as never)).members as Member[]).sort();
      expect(await q({ channel_role: 'channel_moderator' })).toEqual(['tommaso']);
      expect(await q({ is_moderator: true })).toEqual(['tommaso']);
      expect(await q({ is_moderator: false })).toEqual(['jo', 'nick', 'thierry']);
      expect(await q({ banned: true })).toEqual([]);
      expect(await q({ banned: false })).toHaveLength(4);
      expect(await q({ invite: 'pending' })).toEqual(['jo']);
      expect(await q({ joined: false })).toEqual(['jo']);
      expect(await q({ joined: true })).toEqual(['nick', 'thierry', 'tommaso']);
    });

    it('filters by custom member fields of every JSON type', async () => {
      const q = async (filter: object) =>
        ids((await channel.queryMembers(filter as never)).members as Member[]).sort();
      expect(await q({ team: 'core' })).toEqual(['thierry', 'tommaso']);
      expect(await q({ level: { $gte: 3 } })).toEqual(['thierry', 'tommaso']);
      expect(await q({ level: { $lt: 3 } })).toEqual(['nick']);
      expect(await q({ level: { $in: [1, 5] } })).toEqual(['nick', 'tommaso']);
      expect(await q({ level: '5' })).toEqual([]);
      expect(await q({ vip: true })).toEqual(['nick']);
      expect(await q({ vip: { $exists: false } })).toEqual(['jo', 'thierry', 'tommaso']);
      expect(await q({ $or: [{ team: { $ne: 'core' } }, { level: 5 }] })).toEqual(['jo', 'nick', 'tommaso']);
    });

    it('filters by times and sorts, paging with limit and offset', async () => {
      const all = (await channel.queryMembers({})).members as Member[];
      const created = all[0]!.created_at as string;
      const since = await channel.queryMembers({ created_at: { $gte: created } } as never);
      expect(since.members).toHaveLength(4);
      const byId = await channel.queryMembers({}, { user_id: -1 } as never, { limit: 2, offset: 1 });
      expect(ids(byId.members as Member[])).toEqual(['thierry', 'nick']);
      const byRole = await channel.queryMembers({}, [{ channel_role: -1 }, { user_id: 1 }] as never);
      expect(ids(byRole.members as Member[])[0]).toBe('tommaso');
    });

    it('finds a distinct channel by its members', async () => {
      const distinct = client.channel('messaging', {
        members: ['ann', 'ben'],
        created_by_id: 'ann',
      } as never);
      await distinct.create();
      const query = client.channel('messaging', { members: ['ben', 'ann'] } as never);
      const { members } = await query.queryMembers({});
      expect(ids(members as Member[]).sort()).toEqual(['ann', 'ben']);
    });

    it('refuses unknown channels, cid filters, bad operators and misshapen payloads', async () => {
      await expectStreamError(client.channel('messaging', 'nowhere').queryMembers({}), {
        status: 404,
        code: 16,
      });
      for (const filter of [
        { cid: 'messaging:roster' },
        { invite: 'maybe' },
        { is_moderator: 'yes' },
        { level: { $regex: 'x' } },
        { level: { nested: 1 } },
        { 'bad name': 1 },
      ]) {
        const error = await expectStreamError(channel.queryMembers(filter as never), {
          status: 400,
          code: 4,
        });
        expect(Object.keys(error.exception_fields as object)[0]).toMatch(/^filter_conditions\./);
      }
      await expectStreamError(channel.queryMembers({}, { level: 1 } as never), { status: 400, code: 4 });
      await expectStreamError(channel.queryMembers({}, [], { limit: 301 }), { status: 400, code: 4 });
    });
  });

  describe('invites', () => {
    it('invites on creation and on update; the invitees accept or reject', async () => {
      const channel = client.channel('messaging', 'party', {
        created_by_id: 'ann',
        members: ['ann'],
        invites: ['ben', { user_id: 'cat', note: 'plus one' }],
      } as never);
      const created = await channel.create();
      expect(created.channel.member_count).toBe(3);
      const invited = new Map((created.members as Member[]).map((m) => [m.user_id, m]));
      expect(invited.get('ben')).toMatchObject({ invited: true });
      expect(invited.get('cat')).toMatchObject({ invited: true, note: 'plus one' });
      expect(invited.get('ann')).toMatchObject({ invited: false });
      await channel.inviteMembers(['dan']);
      const pending = await channel.queryMembers({ invite: 'pending' });
      expect(pending.members.map((m) => m.user_id).sort()).toEqual(['ben', 'cat', 'dan']);

      const accepted = await channel.acceptInvite({
        user_id: 'ben',
        message: { text: 'Ben joined', user_id: 'ben' },
      } as never);
      expect(accepted.message).toMatchObject({ type: 'system', text: 'Ben joined' });
      await channel.rejectInvite({ user_id: 'cat' } as never);
      const members = await membersOf(client, 'party');
      expect(members.get('ben')).toMatchObject({ invited: true, invite_accepted_at: expect.any(String) });
      expect(members.get('ben')!.invite_rejected_at).toBeUndefined();
      expect(members.get('cat')).toMatchObject({ invited: true, invite_rejected_at: expect.any(String) });
      const q = async (invite: string) =>
        (await channel.queryMembers({ invite } as never)).members.map((m) => m.user_id).sort();
      expect(await q('accepted')).toEqual(['ben']);
      expect(await q('rejected')).toEqual(['cat']);
      expect(await q('pending')).toEqual(['dan']);
    });

    it('refuses to answer an invitation that is not pending, or without a user', async () => {
      const channel = client.channel('messaging', 'party');
      await expectStreamError(channel.acceptInvite({ user_id: 'ann' } as never), { status: 400, code: 4 });
      await expectStreamError(channel.acceptInvite({ user_id: 'ben' } as never), { status: 400, code: 4 });
      await expectStreamError(channel.rejectInvite({ user_id: 'eve' } as never), { status: 400, code: 4 });
      await expectStreamError(channel.acceptInvite(), { status: 400, code: 4 });
      await expectStreamError(channel.inviteMembers(['nobody-here']), { status: 400, code: 4 });
      expect((await membersOf(client, 'party')).get('ben')!.invite_rejected_at).toBeUndefined();
    });

    it('invites again a user who rejected, and leaves joined members as they are', async () => {
      const channel = client.channel('messaging', 'party');
      await channel.inviteMembers(['cat', 'ann']);
      const members = await membersOf(client, 'party');
      expect(members.get('cat')).toMatchObject({ invited: true });
      expect(members.get('cat')!.invite_rejected_at).toBeUndefined();
      expect(members.get('ann')).toMatchObject({ invited: false });
    });
  });

  describe('hide and show', () => {
    it("hides a channel from one user's queryChannels until shown, or asked for with hidden: true", async () => {
      const channel = client.channel('messaging', 'hideout', {
        created_by_id: 'ann',
        members: ['ann', 'ben'],
      } as never);
      await channel.create();
      await channel.sendMessage({ text: 'old news', user_id: 'ann' } as never);
      const cids = async (userId: string, filter: object = {}) =>
        (
          await client.queryChannels({ members: { $in: [userId] }, ...filter }, {}, {
            user_id: userId,
          } as never)
        ).map((c) => c.cid);
      expect(await cids('ben')).toContain('messaging:hideout');
      await channel.hide('ben');
      expect(await cids('ben')).not.toContain('messaging:hideout');
      expect(await cids('ben', { hidden: true })).toEqual(['messaging:hideout']);
      expect(await cids('ann')).toContain('messaging:hideout');
      const [hidden] = await client.queryChannelsRequest({ cid: 'messaging:hideout', hidden: true }, {}, {
        user_id: 'ben',
      } as never);
      expect(hidden!.messages.map((m) => m.text)).toEqual(['old news']);
      expect(hidden).toMatchObject({ hidden: true, membership: { user_id: 'ben', hidden: true } });
      await channel.show('ben');
      expect(await cids('ben')).toContain('messaging:hideout');
      expect(await cids('ben', { hidden: true })).toEqual([]);
    });

    it('clears the history for that member only when hiding with clear_history', async () => {
      const channel = client.channel('messaging', 'hideout');
      await channel.hide('ben', true);
      await channel.show('ben');
      await channel.sendMessage({ text: 'fresh', user_id: 'ann' } as never);
      const texts = async (userId: string) =>
        (
          await client.queryChannelsRequest({ cid: 'messaging:hideout' }, {}, { user_id: userId } as never)
        )[0]!.messages.map((m) => m.text);
      expect(await texts('ben')).toEqual(['fresh']);
      expect(await texts('ann')).toEqual(['old news', 'fresh']);
    });

    it('filters pinned and archived channels for the user, and refuses own-state filters without one', async () => {
      const channel = client.channel('messaging', 'hideout');
      await channel.pin({ user_id: 'ann' });
      const forAnn = (filter: object) => client.queryChannels(filter, {}, { user_id: 'ann' } as never);
      expect((await forAnn({ pinned: true })).map((c) => c.cid)).toEqual(['messaging:hideout']);
      expect((await forAnn({ archived: true })).map((c) => c.cid)).toEqual([]);
      await expectStreamError(client.queryChannels({ hidden: true }), { status: 400, code: 4 });
      await expectStreamError(
        client.queryChannels({ hidden: 'yes' } as never, {}, { user_id: 'ann' } as never),
        {
          status: 400,
          code: 4,
        },
      );
    });

    it('refuses hiding for a non-member, an unknown channel, or without a user', async () => {
      await expectStreamError(client.channel('messaging', 'hideout').hide('eve'), { status: 404, code: 16 });
      await expectStreamError(client.channel('messaging', 'nowhere').hide('ann'), { status: 404, code: 16 });
      await expectStreamError(client.channel('messaging', 'hideout').hide(), { status: 400, code: 4 });
    });
  });

  describe('channel mutes', () => {
    it('mutes and unmutes channels for a user, with an expiry; queryChannels filters on muted', async () => {
      const quiet = client.channel('messaging', 'quiet', {
        created_by_id: 'ann',
        members: ['ann', 'ben'],
      } as never);
      await quiet.create();
      const loud = client.channel('messaging', 'loud', {
        created_by_id: 'ann',
        members: ['ann', 'ben'],
      } as never);
      await loud.create();
      const muted = (await quiet.mute({ user_id: 'ben' })) as unknown as Record<
        string,
        Member & { channel: Member }
      >;
      expect(muted.channel_mute).toMatchObject({ user: { id: 'ben' }, channel: { cid: 'messaging:quiet' } });
      expect(muted.channel_mute!.expires).toBeUndefined();
      const timed = (await loud.mute({ user_id: 'ben', expiration: 3_600_000 } as never)) as unknown as {
        channel_mute: Member;
        channel_mutes: Member[];
      };
      expect(timed.channel_mute.expires).toEqual(expect.any(String));
      expect(timed.channel_mutes).toHaveLength(2);
      const cids = async (userId: string, muted: boolean) =>
        (
          await client.queryChannelsRequest(
            { cid: { $in: ['messaging:quiet', 'messaging:loud'] }, muted },
            {},
            {
              user_id: userId,
            } as never,
          )
        )
          .map((c) => c.channel.cid)
          .sort();
      expect(await cids('ben', true)).toEqual(['messaging:loud', 'messaging:quiet']);
      expect(await cids('ann', true)).toEqual([]);
      await loud.unmute({ user_id: 'ben' });
      expect(await cids('ben', true)).toEqual(['messaging:quiet']);
      expect(await cids('ben', false)).toEqual(['messaging:loud']);
    });

    it('refuses unknown channels, bad cids and a missing user, muting none of them', async () => {
      await expectStreamError(client.channel('messaging', 'nowhere').mute({ user_id: 'ben' }), {
        status: 404,
        code: 16,
      });
      await expectStreamError(client.channel('messaging', 'quiet').mute(), { status: 400, code: 4 });
      await expectStreamError(client.channel('messaging', 'quiet').mute({ user_id: 'nobody-here' }), {
        status: 400,
        code: 4,
      });
      await expectStreamError(
        client.post(client.baseURL + '/moderation/mute/channel', {
          channel_cids: ['nocolon'],
          user_id: 'ben',
        }),
        { status: 400, code: 4 },
      );
    });
  });
});
