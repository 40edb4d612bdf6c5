import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Channel } from 'stream-chat';
import { testDialects } from '../helpers/databases.js';
import { expectStreamError, expectTimestampsEverywhere } from '../helpers/assertions.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe.each(testDialects)('messages and reactions through the stream-chat SDK (%s)', (dialect) => {
  let t: TestServer;
  let channel: Channel;
  beforeAll(async () => {
    t = await startTestServer(dialect);
    await t.app.client.upsertUsers(['ann', 'ben', 'cat'].map((id) => ({ id })));
    channel = t.app.client.channel('messaging', 'chat', {
      created_by_id: 'ann',
      members: ['ann', 'ben', 'cat'],
    } as never);
    await channel.create();
  });
  afterAll(() => t.close());

  it('sends a message with custom fields, attachments and mentioned users', async () => {
    const { message } = await channel.sendMessage({
      id: 'm-1',
      text: 'hello <b>@ben</b>',
      user_id: 'ann',
      attachments: [{ type: 'image', image_url: 'https://example.com/a.png' }],
      mentioned_users: ['ben'],
      priority: 'high',
    } as never);
    expect(message).toMatchObject({
      id: 'm-1',
      cid: 'messaging:chat',
      text: 'hello <b>@ben</b>',
      html: '<p>hello &lt;b&gt;@ben&lt;/b&gt;</p>\n',
      type: 'regular',
      user: { id: 'ann' },
      attachments: [{ type: 'image', image_url: 'https://example.com/a.png' }],
      mentioned_users: [{ id: 'ben' }],
      priority: 'high',
      reply_count: 0,
      reaction_counts: {},
      latest_reactions: [],
    });
    expectTimestampsEverywhere(message);
    const state = await channel.query({ messages: { limit: 1 } });
    expect(state.channel.last_message_at).toBe(message.created_at);
  });

  it('generates an id when none is sent, and refuses a duplicate id', async () => {
    const { message } = await channel.sendMessage({ text: 'no id', user_id: 'ben' });
    expect(message.id).toMatch(/^[0-9a-f-]{36}$/);
    await expectStreamError(channel.sendMessage({ id: 'm-1', text: 'dup', user_id: 'ben' }), {
      status: 400,
      code: 4,
    });
  });

  it('racing sends of the same id: exactly one wins, the others get 400 code 4, none a 500', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => channel.sendMessage({ id: 'race', text: 'me first', user_id: 'ann' })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const result of results) {
      if (result.status === 'rejected') {
        const error = result.reason as { response?: { status: number; data: { code: number } } };
        expect([error.response?.status, error.response?.data.code]).toEqual([400, 4]);
      }
    }
  });

  it('threads: replies carry parent_id and the parent counts them', async () => {
    await channel.sendMessage({ id: 'parent', text: 'thread root', user_id: 'ann' });
    const reply = await channel.sendMessage({
      id: 'reply-1',
      text: 'r1',
      user_id: 'ben',
      parent_id: 'parent',
    });
    expect(reply.message).toMatchObject({ parent_id: 'parent', type: 'reply' });
    await channel.sendMessage({
      id: 'reply-2',
      text: 'r2',
      user_id: 'cat',
      parent_id: 'parent',
      show_in_channel: true,
    });
    const parent = await t.app.client.getMessage('parent');
    expect(parent.message.reply_count).toBe(2);
    const replies = await channel.getReplies('parent', { limit: 10 });
    expect(replies.messages.map((m) => m.id)).toEqual(['reply-1', 'reply-2']);
    // Only replies shown in the channel appear in the channel's page.
    const state = await channel.query({ messages: { limit: 50 } });
    const ids = state.messages.map((m) => m.id);
    expect(ids).toContain('reply-2');
    expect(ids).not.toContain('reply-1');
  });

  it('pages a thread back with id_lt, oldest first within a page, down to its first reply', async () => {
    await channel.sendMessage({ id: 'long-thread', text: 'root', user_id: 'ann' });
    for (let i = 0; i < 7; i++) {
      await channel.sendMessage({ id: `lt-${i}`, text: `r${i}`, user_id: 'ben', parent_id: 'long-thread' });
    }
    const pages: string[][] = [];
    let idLt: string | undefined;
    for (;;) {
      const page = await channel.getReplies('long-thread', { limit: 3, ...(idLt ? { id_lt: idLt } : {}) });
      if (page.messages.length === 0) break;
      pages.push(page.messages.map((m) => m.id));
      idLt = page.messages[0]!.id;
    }
    expect(pages).toEqual([['lt-4', 'lt-5', 'lt-6'], ['lt-1', 'lt-2', 'lt-3'], ['lt-0']]);
  });

  it('refuses an id_lt that is not a reply of the thread', async () => {
    await channel.sendMessage({ id: 'anchor-thread', text: 'root', user_id: 'ann' });
    await channel.sendMessage({ id: 'anchor-reply', text: 'r', user_id: 'ben', parent_id: 'anchor-thread' });
    for (const idLt of ['anchor-thread', 'lt-3', 'no-such-message']) {
      await expectStreamError(channel.getReplies('anchor-thread', { limit: 3, id_lt: idLt }), {
        status: 400,
        code: 4,
      });
    }
    await expectStreamError(channel.getReplies('no-such-thread', { limit: 3, id_lt: 'anchor-reply' }), {
      status: 404,
      code: 16,
    });
  });

  it('shows a quoted message with its own reactions, on the page or not', async () => {
    const quoting = t.app.client.channel('messaging', 'quoting', {
      created_by_id: 'ann',
      members: ['ann', 'ben'],
    } as never);
    await quoting.create();
    await quoting.sendMessage({ id: 'quoted-1', text: 'quote me', user_id: 'ann' });
    await quoting.sendReaction('quoted-1', { type: 'like', user_id: 'cat' } as never);
    for (let i = 0; i < 3; i++)
      await quoting.sendMessage({
        id: `quoting-${i}`,
        text: `q${i}`,
        user_id: 'ben',
        quoted_message_id: 'quoted-1',
      } as never);
    for (const limit of [2, 10]) {
      const { messages } = await quoting.query({ messages: { limit } });
      const quoted = messages.find((m) => m.id === 'quoting-2')!.quoted_message!;
      expect(quoted).toMatchObject({ id: 'quoted-1', user: { id: 'ann' }, reaction_counts: { like: 1 } });
      expect(quoted.latest_reactions!.map((r) => [r.type, r.user!.id])).toEqual([['like', 'cat']]);
    }
  });

  it('a reply to a message in another channel, or to a reply, is refused', async () => {
    await expectStreamError(channel.sendMessage({ text: 'x', user_id: 'ann', parent_id: 'reply-1' }), {
      status: 400,
      code: 4,
    });
    await expectStreamError(channel.sendMessage({ text: 'x', user_id: 'ann', parent_id: 'missing' }), {
      status: 400,
      code: 4,
    });
  });

  it('updates a message in full and partially', async () => {
    await channel.sendMessage({ id: 'edit-me', text: 'v1', user_id: 'ann', colour: 'red' } as never);
    const full = await t.app.client.updateMessage(
      { id: 'edit-me', text: 'v2', shape: 'round' } as never,
      'ann',
    );
    expect(full.message).toMatchObject({ text: 'v2', shape: 'round' });
    expect(full.message).not.toHaveProperty('colour');
    const partial = await t.app.client.partialUpdateMessage(
      'edit-me',
      { set: { text: 'v3', mood: 'ok' } as never, unset: ['shape'] as never },
      'ann',
    );
    expect(partial.message).toMatchObject({ text: 'v3', mood: 'ok' });
    expect(partial.message).not.toHaveProperty('shape');
    expect(partial.message.updated_at! > partial.message.created_at!).toBe(true);
  });

  it('soft-deletes (type deleted, deleted_at), undeletes, and hard-deletes', async () => {
    await channel.sendMessage({ id: 'doomed', text: 'bye', user_id: 'ann' });
    const soft = await t.app.client.deleteMessage('doomed');
    expect(soft.message).toMatchObject({ id: 'doomed', type: 'deleted' });
    expect(soft.message.deleted_at).toBeTruthy();
    const restored = await t.app.client.undeleteMessage('doomed', 'ann');
    expect(restored.message.type).toBe('regular');
    expect(restored.message.deleted_at).toBeUndefined();
    await t.app.client.deleteMessage('doomed', true);
    await expectStreamError(t.app.client.getMessage('doomed'), { status: 404, code: 16 });
  });

  it('hard-deleting a reply recounts its parent', async () => {
    await channel.sendMessage({ id: 'p2', text: 'root', user_id: 'ann' });
    await channel.sendMessage({ id: 'p2-r', text: 'reply', user_id: 'ben', parent_id: 'p2' });
    await t.app.client.deleteMessage('p2-r', true);
    expect((await t.app.client.getMessage('p2')).message.reply_count).toBe(0);
  });

  it('keeps reaction_counts, reaction_scores and latest_reactions right', async () => {
    await channel.sendMessage({ id: 'react', text: 'react to me', user_id: 'ann' });
    await channel.sendReaction('react', { type: 'like', user_id: 'ben' });
    await channel.sendReaction('react', { type: 'like', user_id: 'cat', score: 3 });
    const third = await channel.sendReaction('react', {
      type: 'love',
      user_id: 'ben',
      team: 'blue',
    } as never);
    expect(third.reaction).toMatchObject({
      type: 'love',
      user_id: 'ben',
      message_id: 'react',
      score: 1,
      team: 'blue',
    });
    expect(third.message.reaction_counts).toEqual({ like: 2, love: 1 });
    expect(third.message.reaction_scores).toEqual({ like: 4, love: 1 });
    expect(third.message.latest_reactions).toHaveLength(3);
    expectTimestampsEverywhere(third);

    const unique = await channel.sendReaction(
      'react',
      { type: 'wow', user_id: 'ben' },
      { enforce_unique: true },
    );
    expect(unique.message.reaction_counts).toEqual({ like: 1, wow: 1 });

    const removed = await channel.deleteReaction('react', 'wow', 'ben');
    expect(removed.message.reaction_counts).toEqual({ like: 1 });
    expect(removed.message.reaction_scores).toEqual({ like: 3 });
    const listed = await t.app.client.getMessage('react');
    expect(listed.message.latest_reactions!.map((r) => `${r.user_id}:${r.type}`)).toEqual(['cat:like']);
  });

  it('sending the same reaction again updates it instead of adding one', async () => {
    await channel.sendMessage({ id: 'again', text: 'x', user_id: 'ann' });
    await channel.sendReaction('again', { type: 'like', user_id: 'ben', score: 1 });
    const second = await channel.sendReaction('again', { type: 'like', user_id: 'ben', score: 5 });
    expect(second.message.reaction_counts).toEqual({ like: 1 });
    expect(second.message.reaction_scores).toEqual({ like: 5 });
  });

  it('deleting a reaction that does not exist is 404 code 16', async () => {
    await expectStreamError(channel.deleteReaction('again', 'nope', 'ben'), { status: 404, code: 16 });
  });

  it('a message to an unknown channel or from an unknown user is refused', async () => {
    await expectStreamError(
      t.app.client.channel('messaging', 'nowhere').sendMessage({ text: 'x', user_id: 'ann' }),
      {
        status: 404,
        code: 16,
      },
    );
    await expectStreamError(channel.sendMessage({ text: 'x', user_id: 'stranger' }), {
      status: 400,
      code: 4,
    });
  });
});
