import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { expectStreamError, expectTimestampsEverywhere } from '../helpers/assertions.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe.each(testDialects)('channels through the stream-chat SDK (%s)', (dialect) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(dialect);
    await t.app.client.upsertUsers(
      ['ann', 'ben', 'cat', 'dan', 'eve'].map((id) => ({ id, name: id.toUpperCase() })),
    );
  });
  afterAll(() => t.close());

  it('creates a channel with created_by_id, members and custom data', async () => {
    const channel = t.app.client.channel('messaging', 'general', {
      created_by_id: 'ann',
      members: ['ann', 'ben'],
      topic: 'all things',
    } as never);
    const state = await channel.create();
    expect(state.channel).toMatchObject({
      cid: 'messaging:general',
      id: 'general',
      type: 'messaging',
      topic: 'all things',
      member_count: 2,
      created_by: { id: 'ann' },
    });
    expect(state.members.map((m) => m.user_id).sort()).toEqual(['ann', 'ben']);
    expect(state.messages).toEqual([]);
    expectTimestampsEverywhere(state);
  });

  it('refuses to create a channel without a creator when using a server token', async () => {
    await expectStreamError(t.app.client.channel('messaging', 'orphan').create(), { status: 400, code: 4 });
  });

  it('refuses members that do not exist, and creates nothing', async () => {
    await expectStreamError(
      t.app.client
        .channel('messaging', 'ghosts', { created_by_id: 'ann', members: ['ann', 'ghost'] } as never)
        .create(),
      { status: 400, code: 4 },
    );
    const found = await t.app.client.queryChannels({ cid: 'messaging:ghosts' });
    expect(found).toEqual([]);
  });

  it('creates a channel without id, named by its members, and finds the same one again', async () => {
    const first = t.app.client.channel('messaging', {
      members: ['ann', 'cat'],
      created_by_id: 'ann',
    } as never);
    const state = await first.create();
    expect(state.channel.id).toMatch(/^!members-/);
    expect(state.members).toHaveLength(2);
    const again = t.app.client.channel('messaging', {
      members: ['cat', 'ann'],
      created_by_id: 'cat',
    } as never);
    const second = await again.create();
    expect(second.channel.cid).toBe(state.channel.cid);
  });

  it('queries channels by cid, type, id and members, with sort, limit and offset', async () => {
    for (const id of ['q-a', 'q-b', 'q-c']) {
      await t.app.client
        .channel('team', id, { created_by_id: 'dan', members: id === 'q-b' ? ['eve'] : ['dan'] } as never)
        .create();
    }
    const byType = await t.app.client.queryChannels({ type: 'team' }, { created_at: 1 });
    expect(byType.map((c) => c.id)).toEqual(['q-a', 'q-b', 'q-c']);
    const byMembers = await t.app.client.queryChannels({ type: 'team', members: { $in: ['eve'] } });
    expect(byMembers.map((c) => c.id)).toEqual(['q-b']);
    const byCid = await t.app.client.queryChannels({ cid: { $in: ['team:q-a', 'team:q-c'] } }, {
      cid: -1,
    } as never);
    expect(byCid.map((c) => c.id)).toEqual(['q-c', 'q-a']);
    const byId = await t.app.client.queryChannels({ type: 'team', id: 'q-b' });
    expect(byId.map((c) => c.cid)).toEqual(['team:q-b']);
    const paged = await t.app.client.queryChannels(
      { type: 'team' },
      { created_at: 1 },
      { limit: 1, offset: 1 },
    );
    expect(paged.map((c) => c.id)).toEqual(['q-b']);
  });

  it('queries channels by custom data: name with $autocomplete and $q, any field with $eq, $in, $ne, $exists and comparisons', async () => {
    const channels: Array<[string, Record<string, unknown>]> = [
      ['cd-1', { name: 'General Chat', priority: 3, project: 'apollo' }],
      ['cd-2', { name: 'Random', priority: 10, project: 'gemini' }],
      ['cd-3', { name: 'general-purpose', project: 'apollo', archived_reason: null }],
      ['cd-4', { priority: '3' }],
    ];
    for (const [id, data] of channels)
      await t.app.client.channel('custom', id, { created_by_id: 'dan', ...data } as never).create();
    const ids = async (filter: Record<string, unknown>) =>
      (await t.app.client.queryChannels({ type: 'custom', ...filter } as never, { cid: 1 } as never)).map(
        (c) => c.id,
      );
    expect(await ids({ name: { $autocomplete: 'gen' } })).toEqual(['cd-1', 'cd-3']);
    expect(await ids({ name: { $autocomplete: 'CHA' } })).toEqual(['cd-1']);
    expect(await ids({ name: { $q: 'purp' } })).toEqual(['cd-3']);
    expect(await ids({ name: 'Random' })).toEqual(['cd-2']);
    expect(await ids({ project: 'apollo' })).toEqual(['cd-1', 'cd-3']);
    expect(await ids({ project: { $in: ['gemini', 'mercury'] } })).toEqual(['cd-2']);
    expect(await ids({ project: { $ne: 'apollo' } })).toEqual(['cd-2', 'cd-4']);
    expect(await ids({ project: { $exists: false } })).toEqual(['cd-4']);
    // A number matches numbers only: '3' is a string.
    expect(await ids({ priority: 3 })).toEqual(['cd-1']);
    expect(await ids({ priority: { $gte: 3 } })).toEqual(['cd-1', 'cd-2']);
    expect(await ids({ $or: [{ priority: { $gt: 5 } }, { name: { $q: 'purp' } }] })).toEqual([
      'cd-2',
      'cd-3',
    ]);
    for (const filter of [
      { name: { $autocomplete: '' } },
      { project: { $autocomplete: 'apo' } },
      { priority: { $gt: [1] } },
      { 'project.name': 'x' },
    ]) {
      await expect(t.app.client.queryChannels(filter as never)).rejects.toMatchObject({
        response: { status: 400, data: { code: 4 } },
      });
    }
  });

  it("queries channels by the listing user's invitation (joined, invite) and by a member's name", async () => {
    const create = (id: string, members: string[], invites: string[]) =>
      t.app.client.channel('invitations', id, { created_by_id: 'dan', members, invites } as never).create();
    await create('inv-1', ['dan'], ['eve']);
    await create('inv-2', ['dan'], ['eve']);
    await t.app.client.channel('invitations', 'inv-2').acceptInvite({ user_id: 'eve' } as never);
    await create('inv-3', ['dan', 'eve'], []);
    await create('inv-4', ['ben'], ['eve']);
    await t.app.client.channel('invitations', 'inv-4').rejectInvite({ user_id: 'eve' } as never);
    await create('inv-5', ['dan'], []);
    const ids = async (filter: Record<string, unknown>, userId?: string) =>
      (
        await t.app.client.queryChannels(
          { type: 'invitations', ...filter } as never,
          { cid: 1 } as never,
          (userId ? { user_id: userId } : {}) as never,
        )
      ).map((c) => c.id);
    expect(await ids({ joined: true }, 'eve')).toEqual(['inv-2', 'inv-3']);
    expect(await ids({ joined: false }, 'eve')).toEqual(['inv-1', 'inv-4']);
    expect(await ids({ invite: 'pending' }, 'eve')).toEqual(['inv-1']);
    expect(await ids({ invite: 'accepted' }, 'eve')).toEqual(['inv-2']);
    expect(await ids({ invite: 'rejected' }, 'eve')).toEqual(['inv-4']);
    expect(await ids({ joined: true }, 'dan')).toEqual(['inv-1', 'inv-2', 'inv-3', 'inv-5']);
    // A member's name: the invited count as members, as in Stream.
    expect(await ids({ 'member.user.name': { $autocomplete: 'ev' } })).toEqual([
      'inv-1',
      'inv-2',
      'inv-3',
      'inv-4',
    ]);
    expect(await ids({ 'member.user.name': 'BEN' })).toEqual(['inv-4']);
    expect(await ids({ 'member.user.name': { $q: 'a' } })).toEqual(['inv-1', 'inv-2', 'inv-3', 'inv-5']);
    for (const [filter, userId] of [
      [{ joined: true }, undefined],
      [{ invite: 'maybe' }, 'eve'],
      [{ joined: 'yes' }, 'eve'],
      [{ 'member.user.name': { $autocomplete: '' } }, undefined],
    ] as const) {
      await expect(ids(filter, userId)).rejects.toMatchObject({
        response: { status: 400, data: { code: 4 } },
      });
    }
  });

  it("pages a channel state's members in join order, and shows the caller's membership beyond the page", async () => {
    const order = ['eve', 'dan', 'cat', 'ben', 'ann'];
    for (const id of ['mp-1', 'mp-2']) {
      const channel = t.app.client.channel('messaging', id, { created_by_id: 'ann' } as never);
      await channel.create();
      for (const userId of order) await channel.addMembers([userId]);
    }
    const state = await t.app.client
      .channel('messaging', 'mp-1')
      .query({ members: { limit: 2, offset: 1 }, messages: { limit: 0 } } as never);
    expect(state.members.map((m) => m.user_id)).toEqual(['dan', 'cat']);
    expect(state.channel.member_count).toBe(5);

    const listed = await t.app.client.queryChannels(
      { cid: { $in: ['messaging:mp-1', 'messaging:mp-2'] } },
      { cid: 1 } as never,
      { member_limit: 3, user_id: 'ann' } as never,
    );
    expect(listed.map((c) => c.id)).toEqual(['mp-1', 'mp-2']);
    for (const channel of listed) {
      // Ann joined last: she is not on the page of three, but her membership is still shown.
      expect(Object.keys(channel.state.members)).toEqual(['eve', 'dan', 'cat']);
      expect(channel.state.membership).toMatchObject({ user_id: 'ann' });
    }
    const none = await t.app.client
      .channel('messaging', 'mp-2')
      .query({ members: { limit: 0 }, messages: { limit: 0 } } as never);
    expect(none.members).toEqual([]);
  });

  it('updates custom data and adds and removes members', async () => {
    const channel = t.app.client.channel('messaging', 'upd', {
      created_by_id: 'ann',
      members: ['ann'],
      colour: 'red',
    } as never);
    await channel.create();
    const updated = await channel.update({ colour: 'green', size: 3 } as never);
    expect(updated.channel).toMatchObject({ colour: 'green', size: 3 });
    const added = await channel.addMembers(['ben', 'cat']);
    expect(added.members.map((m) => m.user_id).sort()).toEqual(['ann', 'ben', 'cat']);
    expect(added.channel!.member_count).toBe(3);
    const removed = await channel.removeMembers(['ben']);
    expect(removed.members.map((m) => m.user_id).sort()).toEqual(['ann', 'cat']);
    expect(removed.channel!.member_count).toBe(2);
    const partial = await channel.updatePartial({ set: { mood: 'calm' } as never, unset: ['size'] as never });
    expect(partial.channel).toMatchObject({ colour: 'green', mood: 'calm' });
    expect(partial.channel).not.toHaveProperty('size');
  });

  it('returns the newest page of messages with limit and pages back with id_lt', async () => {
    const channel = t.app.client.channel('messaging', 'paging', {
      created_by_id: 'ann',
      members: ['ann'],
    } as never);
    await channel.create();
    for (let i = 0; i < 7; i++) await channel.sendMessage({ id: `page-${i}`, text: `m${i}`, user_id: 'ann' });
    const newest = await channel.query({ messages: { limit: 3 } });
    expect(newest.messages.map((m) => m.id)).toEqual(['page-4', 'page-5', 'page-6']);
    const older = await channel.query({ messages: { limit: 3, id_lt: 'page-4' } });
    expect(older.messages.map((m) => m.id)).toEqual(['page-1', 'page-2', 'page-3']);
  });

  it('refuses an id_lt that names no message of the channel', async () => {
    const channel = t.app.client.channel('messaging', 'anchored', {
      created_by_id: 'ann',
      members: ['ann'],
    } as never);
    await channel.create();
    await channel.sendMessage({ id: 'anchor-here', text: 'here', user_id: 'ann' });
    const other = t.app.client.channel('messaging', 'anchored-elsewhere', { created_by_id: 'ann' } as never);
    await other.create();
    await other.sendMessage({ id: 'anchor-elsewhere', text: 'there', user_id: 'ann' });
    for (const idLt of ['anchor-elsewhere', 'no-such-message']) {
      await expectStreamError(channel.query({ messages: { limit: 3, id_lt: idLt } }), {
        status: 400,
        code: 4,
      });
    }
    const page = await channel.query({ messages: { limit: 3, id_lt: 'anchor-here' } });
    expect(page.messages).toEqual([]);
  });

  it('soft truncation hides earlier messages from queries; a system message may follow', async () => {
    const channel = t.app.client.channel('messaging', 'trunc-soft', {
      created_by_id: 'ann',
      members: ['ann'],
    } as never);
    await channel.create();
    await channel.sendMessage({ id: 'ts-1', text: 'before', user_id: 'ann' });
    const response = await channel.truncate({
      message: { text: 'history cleared', user_id: 'ann' } as never,
      user_id: 'ann',
    } as never);
    expect(response.channel.truncated_at).toBeTruthy();
    expect(response.message).toMatchObject({ text: 'history cleared', type: 'system' });
    const state = await channel.query({ messages: { limit: 10 } });
    expect(state.messages.map((m) => m.text)).toEqual(['history cleared']);
    // Soft truncation keeps the message stored.
    const kept = await t.app.client.getMessage('ts-1');
    expect(kept.message.text).toBe('before');
  });

  it('hard truncation removes earlier messages for good', async () => {
    const channel = t.app.client.channel('messaging', 'trunc-hard', {
      created_by_id: 'ann',
      members: ['ann'],
    } as never);
    await channel.create();
    await channel.sendMessage({ id: 'th-1', text: 'gone soon', user_id: 'ann' });
    await channel.truncate({ hard_delete: true });
    await expectStreamError(t.app.client.getMessage('th-1'), { status: 404, code: 16 });
  });

  it('truncates at a given time: only messages at or before it are hidden', async () => {
    const channel = t.app.client.channel('messaging', 'trunc-at', {
      created_by_id: 'ann',
      members: ['ann'],
    } as never);
    await channel.create();
    const first = await channel.sendMessage({ id: 'ta-1', text: 'one', user_id: 'ann' });
    await channel.sendMessage({ id: 'ta-2', text: 'two', user_id: 'ann' });
    await channel.truncate({ truncated_at: first.message.created_at } as never);
    const state = await channel.query({ messages: { limit: 10 } });
    expect(state.messages.map((m) => m.id)).toEqual(['ta-2']);
  });

  it('soft-deletes a channel (gone from queries) and hard-deletes one (gone with its messages)', async () => {
    const soft = t.app.client.channel('messaging', 'del-soft', {
      created_by_id: 'ann',
      members: ['ann'],
    } as never);
    await soft.create();
    const deleted = await soft.delete();
    expect(deleted.channel.deleted_at).toBeTruthy();
    expect(await t.app.client.queryChannels({ cid: 'messaging:del-soft' })).toEqual([]);

    const hard = t.app.client.channel('messaging', 'del-hard', {
      created_by_id: 'ann',
      members: ['ann'],
    } as never);
    await hard.create();
    await hard.sendMessage({ id: 'dh-1', text: 'x', user_id: 'ann' });
    await hard.delete({ hard_delete: true });
    await expectStreamError(t.app.client.getMessage('dh-1'), { status: 404, code: 16 });
  });

  it('updating or deleting an unknown channel is 404 code 16', async () => {
    await expectStreamError(t.app.client.channel('messaging', 'nope').update({ a: 1 } as never), {
      status: 404,
      code: 16,
    });
    await expectStreamError(t.app.client.channel('messaging', 'nope').delete(), { status: 404, code: 16 });
  });
});
