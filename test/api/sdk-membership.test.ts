/**
 * Stream's channel and membership model through both official SDKs, following Stream's documentation
 * pages for members, roles, invites, hiding, muting, pinning and archiving, truncation, channel
 * updates, channel types and user search: `stream-chat` at the root paths, `@stream-io/node-sdk`
 * under `/api/v2/chat` with every answer held to its types. One scenario, both SDKs, both databases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { membershipDriver, SDKS, type MembershipDriver } from '../helpers/sdk-membership-drivers.js';
import { failureCode } from '../helpers/sdk-drivers.js';
import type { MemberView } from '../helpers/sdk-views.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const byUser = (members: MemberView[]) => new Map(members.map((m) => [m.userId, m]));
const ids = (members: MemberView[]) => members.map((m) => m.userId);

describe.each(testDialects)('the membership model through both SDKs (%s)', (dialect) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(dialect);
  });
  afterAll(() => t.close());

  describe.each(SDKS)('%s', (sdk) => {
    let d: MembershipDriver;
    const members = async (id: string) => byUser(await d.queryMembers('messaging', id, {}));
    beforeAll(async () => {
      d = membershipDriver(sdk, t, await t.createTestApp(sdk));
      await d.upsertUsers(
        ['ann', 'ben', 'cat', 'dan', 'eve'].map((id) => ({ id, name: id[0]!.toUpperCase() + id.slice(1) })),
      );
    });

    it('creates a channel whose members carry roles and custom data, and adds members with custom data', async () => {
      const created = await d.createChannel('messaging', 'agents', {
        createdBy: 'ann',
        members: [
          { userId: 'ann', channelRole: 'channel_moderator', custom: { rank: 1 } },
          { userId: 'ben' },
        ],
      });
      expect(created.memberViews.map((m) => [m.userId, m.channelRole, m.custom]).sort()).toEqual([
        ['ann', 'channel_moderator', { rank: 1 }],
        ['ben', 'channel_member', {}],
      ]);
      const added = await d.addMembers('messaging', 'agents', [
        { userId: 'cat', custom: { code_name: '006' } },
      ]);
      expect(added.memberCount).toBe(3);
      expect(byUser(added.members).get('cat')).toMatchObject({
        channelRole: 'channel_member',
        custom: { code_name: '006' },
        invited: false,
      });
      // Added again with more custom data and a role: counted once, the data merged.
      const again = await d.addMembers('messaging', 'agents', [
        { userId: 'cat', channelRole: 'channel_moderator', custom: { alias: 'Q' } },
      ]);
      expect(again.memberCount).toBe(3);
      expect((await members('agents')).get('cat')).toMatchObject({
        channelRole: 'channel_moderator',
        custom: { code_name: '006', alias: 'Q' },
      });
    });

    it('announces added and removed members with a system message', async () => {
      const added = await d.addMembers('messaging', 'agents', [{ userId: 'dan' }], {
        message: { text: 'Dan joined', userId: 'ann' },
      });
      expect(added.message).toMatchObject({ type: 'system', text: 'Dan joined', userId: 'ann' });
      const removed = await d.removeMembers('messaging', 'agents', ['dan'], {
        text: 'Dan left',
        userId: 'ann',
      });
      expect(removed).toMatchObject({ memberCount: 3, message: { type: 'system', text: 'Dan left' } });
    });

    it('hides the earlier history from a member added with hide_history', async () => {
      await d.createChannel('messaging', 'history', { createdBy: 'ann', members: [{ userId: 'ann' }] });
      await d.sendMessage('messaging', 'history', { text: 'before', userId: 'ann' });
      await d.addMembers('messaging', 'history', [{ userId: 'ben' }], { hideHistory: true });
      await d.sendMessage('messaging', 'history', { text: 'after', userId: 'ann' });
      const texts = async (userId: string) =>
        (await d.queryChannelsFor(userId, { cid: 'messaging:history' }))[0]!.messageTexts;
      expect(await texts('ben')).toEqual(['after']);
      expect(await texts('ann')).toEqual(['before', 'after']);
    });

    it('promotes and demotes moderators and assigns roles; refuses non-members, changing nothing', async () => {
      await d.demoteModerators('messaging', 'agents', ['cat', 'ben']);
      let roles = await members('agents');
      expect([roles.get('cat')!.channelRole, roles.get('ben')!.channelRole]).toEqual([
        'channel_member',
        'channel_member',
      ]);
      await d.addModerators('messaging', 'agents', ['ben']);
      await d.assignRoles('messaging', 'agents', [{ userId: 'cat', channelRole: 'channel_moderator' }]);
      roles = await members('agents');
      expect([roles.get('ben')!.channelRole, roles.get('cat')!.channelRole]).toEqual([
        'channel_moderator',
        'channel_moderator',
      ]);
      expect(await failureCode(d, d.demoteModerators('messaging', 'agents', ['ben', 'eve']))).toBe(4);
      expect(
        await failureCode(d, d.assignRoles('messaging', 'agents', [{ userId: 'eve', channelRole: 'x' }])),
      ).toBe(4);
      expect((await members('agents')).get('ben')!.channelRole).toBe('channel_moderator');
      await d.demoteModerators('messaging', 'agents', ['ben']);
    });

    it('sets and unsets member custom data with updateMemberPartial, dotted paths included', async () => {
      const first = await d.updateMemberPartial('messaging', 'agents', 'cat', {
        set: { code_name: '007', details: { gadget: 'pen', car: 'DB5' } },
      });
      expect(first).toMatchObject({ userId: 'cat', custom: { code_name: '007', alias: 'Q' } });
      const second = await d.updateMemberPartial('messaging', 'agents', 'cat', {
        set: { 'details.gadget': 'watch' },
        unset: ['details.car', 'alias'],
      });
      expect(second.custom).toEqual({ code_name: '007', details: { gadget: 'watch' } });
      expect((await members('agents')).get('cat')!.custom).toEqual(second.custom);
      expect(
        await failureCode(d, d.updateMemberPartial('messaging', 'agents', 'eve', { set: { x: 1 } })),
      ).toBe(16);
      expect(
        await failureCode(
          d,
          d.updateMemberPartial('messaging', 'agents', 'cat', { set: { channel_role: 'owner' } }),
        ),
      ).toBe(4);
      expect(
        await failureCode(d, d.updateMemberPartial('messaging', 'agents', 'cat', { set: { pinned: 'yes' } })),
      ).toBe(4);
    });

    it('pins, archives and undoes both for one member; queryChannels filters pinned and archived', async () => {
      const pinned = await d.pin('messaging', 'agents', 'ben', true);
      expect(pinned.pinnedAt).toBeDefined();
      const archived = await d.archive('messaging', 'agents', 'ben', true);
      expect(archived).toMatchObject({ pinnedAt: pinned.pinnedAt, archivedAt: expect.any(String) });
      expect((await members('agents')).get('cat')!.pinnedAt).toBeUndefined();
      const cids = async (filter: object) =>
        (await d.queryChannelsFor('ben', { members: { $in: ['ben'] }, ...filter })).map((c) => c.cid);
      expect(await cids({ pinned: true })).toEqual(['messaging:agents']);
      expect(await cids({ archived: true })).toEqual(['messaging:agents']);
      expect(await cids({ archived: false })).toEqual(['messaging:history']);
      await d.pin('messaging', 'agents', 'ben', false);
      const back = await d.archive('messaging', 'agents', 'ben', false);
      expect([back.pinnedAt, back.archivedAt]).toEqual([undefined, undefined]);
      expect(await cids({ pinned: true })).toEqual([]);
    });

    it('invites on creation and on update; the invitees accept or reject', async () => {
      const created = await d.createChannel('messaging', 'party', {
        createdBy: 'ann',
        members: [{ userId: 'ann' }],
        invites: [{ userId: 'ben' }, { userId: 'cat', custom: { note: 'plus one' } }],
      });
      const invited = byUser(created.memberViews);
      expect(invited.get('ben')!.invited).toBe(true);
      expect(invited.get('cat')).toMatchObject({ invited: true, custom: { note: 'plus one' } });
      expect(invited.get('ann')!.invited).toBe(false);
      await d.inviteMembers('messaging', 'party', ['dan']);
      expect(ids(await d.queryMembers('messaging', 'party', { invite: 'pending' })).sort()).toEqual([
        'ben',
        'cat',
        'dan',
      ]);
      const accepted = await d.answerInvite('messaging', 'party', 'ben', 'accept', {
        text: 'Ben joined',
        userId: 'ben',
      });
      expect(accepted.message).toMatchObject({ type: 'system', text: 'Ben joined' });
      await d.answerInvite('messaging', 'party', 'cat', 'reject');
      const party = await members('party');
      expect(party.get('ben')).toMatchObject({ invited: true, inviteAcceptedAt: expect.any(String) });
      expect(party.get('cat')).toMatchObject({ invited: true, inviteRejectedAt: expect.any(String) });
      const q = async (filter: object) =>
        ids(await d.queryMembers('messaging', 'party', filter as never)).sort();
      expect(await q({ invite: 'accepted' })).toEqual(['ben']);
      expect(await q({ invite: 'rejected' })).toEqual(['cat']);
      expect(await q({ joined: true })).toEqual(['ann', 'ben']);
      expect(await failureCode(d, d.answerInvite('messaging', 'party', 'ben', 'accept'))).toBe(4);
      expect(await failureCode(d, d.answerInvite('messaging', 'party', 'eve', 'reject'))).toBe(4);
    });

    describe('queryMembers', () => {
      beforeAll(async () => {
        await d.upsertUsers([
          { id: 'tommaso', name: 'Tommaso Barbugli' },
          { id: 'thierry', name: 'Thierry S' },
          { id: 'nick', name: 'Nick Tom' },
          { id: 'jo', name: 'Jo' },
        ]);
        await d.createChannel('messaging', 'roster', {
          createdBy: 'tommaso',
          members: [
            { userId: 'tommaso', channelRole: 'channel_moderator', custom: { level: 5, team: 'core' } },
            { userId: 'thierry', custom: { level: 3, team: 'core' } },
            { userId: 'nick', custom: { level: 1, vip: true } },
          ],
          invites: [{ userId: 'jo' }],
        });
      });
      const q = async (filter: object) =>
        ids(await d.queryMembers('messaging', 'roster', filter as never)).sort();

      it('lists every member oldest first, ties by user id, invited ones included', async () => {
        const all = await d.queryMembers('messaging', 'roster', {});
        expect(ids(all)).toEqual(['jo', 'nick', 'thierry', 'tommaso']);
        expect(byUser(all).get('tommaso')).toMatchObject({ custom: { level: 5, team: 'core' } });
      });

      it('filters by name, $autocomplete (the start of a word), $q (anywhere) and user id', async () => {
        expect(await q({ name: 'Jo' })).toEqual(['jo']);
        expect(await q({ name: { $autocomplete: 'tom' } })).toEqual(['nick', 'tommaso']);
        expect(await q({ name: { $autocomplete: 'maso' } })).toEqual([]);
        expect(await q({ name: { $q: 'maso' } })).toEqual(['tommaso']);
        expect(await q({ id: { $in: ['thierry', 'jo', 'nobody'] } })).toEqual(['jo', 'thierry']);
      });

      it('filters by role, moderator status, ban, invitation and custom fields', async () => {
        expect(await q({ channel_role: 'channel_moderator' })).toEqual(['tommaso']);
        expect(await q({ is_moderator: false })).toEqual(['jo', 'nick', 'thierry']);
        expect(await q({ banned: true })).toEqual([]);
        expect(await q({ joined: false })).toEqual(['jo']);
        expect(await q({ level: { $gte: 3 } })).toEqual(['thierry', 'tommaso']);
        expect(await q({ vip: true })).toEqual(['nick']);
        expect(await q({ $or: [{ team: { $ne: 'core' } }, { level: 5 }] })).toEqual([
          'jo',
          'nick',
          'tommaso',
        ]);
      });

      it('sorts and pages with limit and offset', async () => {
        const page = await d.queryMembers('messaging', 'roster', {}, [{ field: 'user_id', direction: -1 }], {
          limit: 2,
          offset: 1,
        });
        expect(ids(page)).toEqual(['thierry', 'nick']);
        const byRole = await d.queryMembers('messaging', 'roster', {}, [
          { field: 'channel_role', direction: -1 },
          { field: 'user_id', direction: 1 },
        ]);
        expect(ids(byRole)[0]).toBe('tommaso');
      });

      it('refuses unknown channels, cid filters and bad operators', async () => {
        expect(await failureCode(d, d.queryMembers('messaging', 'nowhere', {}))).toBe(16);
        expect(await failureCode(d, d.queryMembers('messaging', 'roster', { cid: 'messaging:roster' }))).toBe(
          4,
        );
        expect(await failureCode(d, d.queryMembers('messaging', 'roster', { invite: 'maybe' }))).toBe(4);
        expect(await failureCode(d, d.queryMembers('messaging', 'roster', { level: { $regex: 'x' } }))).toBe(
          4,
        );
      });
    });

    it("hides a channel from one user's queryChannels until shown; clear_history hides the history for them", async () => {
      await d.createChannel('messaging', 'hideout', {
        createdBy: 'ann',
        members: [{ userId: 'ann' }, { userId: 'ben' }],
      });
      await d.sendMessage('messaging', 'hideout', { text: 'old news', userId: 'ann' });
      const cids = async (filter: object = {}) =>
        (await d.queryChannelsFor('ben', { cid: 'messaging:hideout', ...filter })).map((c) => c.cid);
      await d.hide('messaging', 'hideout', 'ben', false);
      expect(await cids()).toEqual([]);
      const [hidden] = await d.queryChannelsFor('ben', { cid: 'messaging:hideout', hidden: true });
      expect(hidden).toMatchObject({
        hidden: true,
        messageTexts: ['old news'],
        membership: { userId: 'ben' },
      });
      await d.show('messaging', 'hideout', 'ben');
      expect(await cids()).toEqual(['messaging:hideout']);
      await d.hide('messaging', 'hideout', 'ben', true);
      await d.show('messaging', 'hideout', 'ben');
      await d.sendMessage('messaging', 'hideout', { text: 'fresh', userId: 'ann' });
      const texts = async (userId: string) =>
        (await d.queryChannelsFor(userId, { cid: 'messaging:hideout' }))[0]!.messageTexts;
      expect(await texts('ben')).toEqual(['fresh']);
      expect(await texts('ann')).toEqual(['old news', 'fresh']);
      expect(await failureCode(d, d.hide('messaging', 'hideout', 'eve', false))).toBe(16);
      expect(await failureCode(d, d.hide('messaging', 'nowhere', 'ann', false))).toBe(16);
    });

    // A muted user's `channel_mutes` is held through both SDKs in channel-mutes.test.ts.
    it('mutes and unmutes channels for a user, with an expiry; queryChannels filters on muted', async () => {
      for (const id of ['quiet', 'loud'])
        await d.createChannel('messaging', id, {
          createdBy: 'ann',
          members: [{ userId: 'ann' }, { userId: 'ben' }],
        });
      const muted = await d.mute('messaging', 'quiet', 'ben');
      expect(muted.channelMute).toEqual({ cid: 'messaging:quiet', userId: 'ben', expires: undefined });
      const timed = await d.mute('messaging', 'loud', 'ben', 3_600_000);
      expect(timed.channelMute!.expires).toEqual(expect.any(String));
      expect(timed.channelMutes.map((m) => m.cid).sort()).toEqual(['messaging:loud', 'messaging:quiet']);
      const cids = async (userId: string, isMuted: boolean) =>
        (
          await d.queryChannelsFor(userId, {
            cid: { $in: ['messaging:quiet', 'messaging:loud'] },
            muted: isMuted,
          })
        )
          .map((c) => c.cid)
          .sort();
      expect(await cids('ben', true)).toEqual(['messaging:loud', 'messaging:quiet']);
      expect(await cids('ann', true)).toEqual([]);
      await d.unmute('messaging', 'loud', 'ben');
      expect(await cids('ben', true)).toEqual(['messaging:quiet']);
      expect(await cids('ben', false)).toEqual(['messaging:loud']);
      expect(await failureCode(d, d.mute('messaging', 'nowhere', 'ben'))).toBe(16);
      expect(await failureCode(d, d.mute('messaging', 'quiet', 'nobody-here'))).toBe(4);
    });

    it('truncates for some members only (member_ids), hiding the history from them alone', async () => {
      await d.createChannel('messaging', 'some', {
        createdBy: 'ann',
        members: [{ userId: 'ann' }, { userId: 'ben' }],
      });
      await d.sendMessage('messaging', 'some', { text: 'one', userId: 'ann' });
      const channel = await d.truncateFor('messaging', 'some', ['ben']);
      expect(channel.truncatedAt).toBeUndefined();
      await d.sendMessage('messaging', 'some', { text: 'two', userId: 'ann' });
      const texts = async (userId: string) =>
        (await d.queryChannelsFor(userId, { cid: 'messaging:some' }))[0]!.messageTexts;
      expect(await texts('ben')).toEqual(['two']);
      expect(await texts('ann')).toEqual(['one', 'two']);
      expect(await failureCode(d, d.truncateFor('messaging', 'some', ['cat']))).toBe(4);
    });

    it('updates nested channel data by dotted paths, as Stream documents', async () => {
      await d.createChannel('messaging', 'plants', {
        createdBy: 'ann',
        members: [{ userId: 'ann' }],
        custom: {
          source: 'user',
          source_detail: { user_id: 123 },
          channel_detail: { topic: 'Plants', rating: 'pg' },
        },
      });
      await d.partialUpdateChannel('messaging', 'plants', { custom: { source: 'system' } });
      await d.partialUpdateChannel('messaging', 'plants', { unset: ['source_detail'] });
      await d.partialUpdateChannel('messaging', 'plants', { custom: { 'channel_detail.topic': 'Nature' } });
      const channel = await d.partialUpdateChannel('messaging', 'plants', {
        unset: ['channel_detail.rating'],
      });
      expect(channel.custom).toEqual({ source: 'system', channel_detail: { topic: 'Nature' } });
    });

    it('freezes a channel (no new messages, but the announcement) and leaves disabled channels out of queries', async () => {
      await d.createChannel('messaging', 'ice', {
        createdBy: 'ann',
        members: [{ userId: 'ann' }, { userId: 'ben' }],
      });
      const frozen = await d.updateChannelData(
        'messaging',
        'ice',
        { frozen: true, topic: 'cold' },
        {
          text: 'Ann froze the channel',
          userId: 'ann',
        },
      );
      expect(frozen.channel).toMatchObject({ frozen: true, disabled: false, custom: { topic: 'cold' } });
      expect(frozen.message).toMatchObject({ text: 'Ann froze the channel' });
      expect(await failureCode(d, d.sendMessage('messaging', 'ice', { text: 'during', userId: 'ben' }))).toBe(
        17,
      );
      await d.updateChannelData('messaging', 'ice', { frozen: false, topic: 'cold' });
      await d.sendMessage('messaging', 'ice', { text: 'after', userId: 'ben' });

      const disabled = await d.updateChannelData('messaging', 'ice', { disabled: true, topic: 'cold' });
      expect(disabled.channel.disabled).toBe(true);
      const cids = async (filter: object) =>
        (await d.queryChannels(filter as never)).map((c) => c.channel.cid);
      expect(await cids({ cid: 'messaging:ice' })).toEqual([]);
      expect(await cids({ cid: 'messaging:ice', disabled: true })).toEqual(['messaging:ice']);
    });

    it('lists the built-in channel types, reads one, and shows them in the app settings', async () => {
      const types = await d.listChannelTypes();
      expect(Object.keys(types).sort()).toEqual(['commerce', 'gaming', 'livestream', 'messaging', 'team']);
      expect(types.messaging).toMatchObject({ name: 'messaging', reactions: true, replies: true });
      expect(await d.getChannelType('livestream')).toMatchObject({ name: 'livestream', commands: [] });
      expect(await failureCode(d, d.getChannelType('nope'))).toBe(16);
      expect((await d.getApp()).channelConfigs).toEqual(Object.keys(types).sort());
    });

    it('searches users with $autocomplete on name and id', async () => {
      await d.upsertUsers([
        { id: 'ac-1', name: 'Ann Smith' },
        { id: 'ac-2', name: 'Bob Annan' },
        { id: 'ac-3', name: 'Cyan' },
      ]);
      const found = async (filter: object) =>
        (
          await d.queryUsers({ id: { $in: ['ac-1', 'ac-2', 'ac-3'] }, ...filter }, [
            { field: 'id', direction: 1 },
          ])
        ).map((u) => u.id);
      expect(await found({ name: { $autocomplete: 'ann' } })).toEqual(['ac-1', 'ac-2']);
      expect(await found({ name: { $autocomplete: 'yan' } })).toEqual([]);
      expect((await d.queryUsers({ id: { $autocomplete: 'ac-' } })).map((u) => u.id).sort()).toEqual([
        'ac-1',
        'ac-2',
        'ac-3',
      ]);
      expect(await failureCode(d, d.queryUsers({ name: { $autocomplete: '' } }))).toBe(4);
    });
  });
});
