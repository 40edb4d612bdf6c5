import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from '../../src/context.js';
import { formatMicros } from '../../src/lib/time.js';
import { importLines, type ImportProgress } from '../../src/modules/imports/imports.usecases.js';
import { testDialects } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { appIdOf } from './import-support.js';

const USERS = 25;
const CHANNELS = 5;
const MESSAGES = 12_000;
const START = Date.parse('2024-01-01T00:00:00Z') * 1000;

/** What a generated file must leave behind, tallied while writing it. */
interface Expected {
  replies: Map<string, number>;
  reactions: Map<string, Record<string, number>>;
  lastMessageAt: Map<string, number>;
  lines: number;
}

/**
 * A file of 25 users, 5 channels of 5 members, 12,000 messages (every fourth a reply to its channel's
 * latest top-level message, every eighth of those shown in the channel) and a reaction on every third
 * message, produced one line at a time.
 */
function generateFile(expected: Expected): AsyncIterable<string> {
  const entry = (type: string, data: Record<string, unknown>) => JSON.stringify({ type, data });
  return (async function* () {
    for (let u = 0; u < USERS; u++) yield entry('user', { id: `user-${u}`, name: `User ${u}` });
    for (let c = 0; c < CHANNELS; c++) {
      yield entry('channel', { type: 'messaging', id: `chan-${c}`, created_by: 'user-0' });
      for (let m = 0; m < 5; m++) {
        yield entry('member', {
          channel_type: 'messaging',
          channel_id: `chan-${c}`,
          user_id: `user-${c * 5 + m}`,
        });
      }
    }
    const latestTopLevel = new Map<number, string>();
    const messageIds: string[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      const c = i % CHANNELS;
      const cid = `messaging:chan-${c}`;
      const id = `msg-${i}`;
      const createdAt = START + i * 1000;
      const parent = i % 4 === 3 ? latestTopLevel.get(c) : undefined;
      const shown = parent !== undefined && i % 8 === 7;
      yield entry('message', {
        id,
        channel_type: 'messaging',
        channel_id: `chan-${c}`,
        user: `user-${c * 5 + (i % 5)}`,
        text: `message ${i}`,
        created_at: formatMicros(createdAt),
        ...(parent ? { parent_id: parent, show_in_channel: shown } : {}),
      });
      if (parent) expected.replies.set(parent, (expected.replies.get(parent) ?? 0) + 1);
      else latestTopLevel.set(c, id);
      if (!parent || shown) expected.lastMessageAt.set(cid, createdAt);
      messageIds.push(id);
    }
    for (let i = 0; i < MESSAGES; i += 3) {
      const type = i % 2 === 0 ? 'like' : 'love';
      yield entry('reaction', { message_id: messageIds[i], user_id: `user-${i % USERS}`, type });
      expected.reactions.set(messageIds[i]!, { [type]: 1 });
    }
  })();
}

describe.each(testDialects)('importing a generated file of 12,000 messages (%s)', (dialect) => {
  let t: TestServer;
  let context: Context;
  let appId: number;
  const expected: Expected = { replies: new Map(), reactions: new Map(), lastMessageAt: new Map(), lines: 0 };
  const progress: ImportProgress[] = [];
  let counts: Awaited<ReturnType<typeof importLines>>;

  beforeAll(async () => {
    t = await startTestServer(dialect);
    context = t.server.context;
    appId = await appIdOf(context, t.app.apiKey);
    counts = await importLines({
      dialect: context.dialect,
      clock: context.clock,
      appId,
      input: generateFile(expected),
      batchSize: 2500,
      onProgress: (p) => progress.push(p),
    });
  }, 120_000);
  afterAll(() => t.close());

  it('imports every line and reports progress after each batch', () => {
    expect(counts).toEqual({
      users: 25,
      channels: 5,
      members: 25,
      channel_mutes: 0,
      messages: MESSAGES,
      reactions: 4000,
    });
    const total = 25 + 5 + 25 + MESSAGES + 4000;
    expect(progress.length).toBe(Math.ceil(total / 2500));
    expect(progress.at(-1)).toMatchObject({ lines: total, counts });
    expect(progress.map((p) => p.lines)).toEqual([...progress.map((p) => p.lines)].sort((a, b) => a - b));
  });

  it('leaves every reply count, reaction summary and last_message_at as the rows make them', async () => {
    const messages = await context.db
      .selectFrom('messages')
      .select(['id', 'reply_count', 'reaction_counts', 'reaction_scores'])
      .where('app_id', '=', appId)
      .execute();
    expect(messages).toHaveLength(MESSAGES);
    for (const message of messages) {
      expect(message.reply_count, message.id).toBe(expected.replies.get(message.id) ?? 0);
      const reactions = expected.reactions.get(message.id) ?? {};
      expect(JSON.parse(message.reaction_counts), message.id).toEqual(reactions);
      expect(JSON.parse(message.reaction_scores), message.id).toEqual(reactions);
    }
    const channels = await context.db
      .selectFrom('channels')
      .select(['cid', 'member_count', 'last_message_at'])
      .where('app_id', '=', appId)
      .execute();
    expect(channels).toHaveLength(CHANNELS);
    for (const channel of channels) {
      expect(channel).toEqual({
        cid: channel.cid,
        member_count: 5,
        last_message_at: expected.lastMessageAt.get(channel.cid),
      });
    }
  });

  it('serves the imported threads and channels through the API', async () => {
    const [busiest] = [...expected.replies].sort((a, b) => b[1] - a[1]);
    const { message } = await t.app.client.getMessage(busiest![0]);
    expect(message.reply_count).toBe(busiest![1]);
    const channelOfParent = `chan-${Number(busiest![0].slice('msg-'.length)) % CHANNELS}`;
    const replies = await t.app.client
      .channel('messaging', channelOfParent)
      .getReplies(busiest![0], { limit: 100 });
    expect(replies.messages).toHaveLength(Math.min(busiest![1], 100));
    expect((await t.app.client.getMessage('msg-3')).message.reaction_counts).toEqual({ love: 1 });
    const state = await t.app.client.channel('messaging', 'chan-2').query({ messages: { limit: 5 } });
    expect(state.channel).toMatchObject({
      member_count: 5,
      last_message_at: formatMicros(expected.lastMessageAt.get('messaging:chan-2')!),
    });
    expect(state.messages.map((m) => m.created_at)).toEqual(
      [...state.messages.map((m) => m.created_at)].sort(),
    );
  });
});
