/**
 * The benchmark's chat data, generated deterministically (a seeded PRNG): users, and channels whose
 * messages look like a busy real channel. Pure: rows only, no database.
 *
 * Per message, by default: text of 20 to 300 characters (words, some accents, emoji, quotes and line
 * breaks, so string escaping is exercised), 10% thread replies (a tenth of them shown in the channel),
 * 20% with 1 to 3 reactions, 5% mentioning users, 3% with an attachment, 2% quoting a message, 5% with
 * custom fields, 0.5% soft-deleted. Counters (reply_count, reaction_counts/scores) are consistent.
 */
import type {
  ChannelRow,
  MemberRow,
  MessageRow,
  ReactionRow,
  UserRow,
} from '../src/database/database.types.js';
import { NEW_MEMBER } from '../src/modules/channels/channels.shape.js';
import { renderHtml } from '../src/modules/messages/messages.models.js';

/** mulberry32: small, fast, good enough for test data, and the same sequence on every machine. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'the a to and of is it you that in we for on this be are have with not will at can just so what ' +
  'about meeting release deploy tomorrow today thanks great sounds good let me check ticket build ' +
  'review merge branch customer invoice lunch coffee weekend café naïve résumé straße 東京 привет ' +
  '👍 🎉 🚀 ok yes no maybe later "quoted" it\'s don\'t <b>bold</b> a&b 50% path\\to\\file'
).split(' ');

const REACTION_TYPES = ['like', 'love', 'haha', 'wow', 'sad'];

/** `user-0001` ... */
export function userId(index: number): string {
  return `user-${String(index).padStart(4, '0')}`;
}

export function seedUsers(appId: number, count: number, at: number): UserRow[] {
  const random = createRandom(7);
  return Array.from({ length: count }, (_, i) => ({
    app_id: appId,
    id: userId(i),
    role: i === 0 ? 'admin' : 'user',
    custom: JSON.stringify({
      name: `User ${i}`,
      image: `https://example.com/avatars/${i}.png`,
      ...(random() < 0.2 ? { title: 'engineer' } : {}),
    }),
    teams: '[]',
    banned: 0,
    created_at: at + i,
    updated_at: at + i,
    deleted_at: null,
    deactivated_at: null,
  }));
}

export interface SeedChannel {
  channel: ChannelRow;
  members: MemberRow[];
}

export function seedChannel(
  appId: number,
  id: string,
  memberCount: number,
  messageCount: number,
  at: number,
): SeedChannel {
  const cid = `messaging:${id}`;
  const members = Array.from({ length: memberCount }, (_, i) => ({
    ...NEW_MEMBER,
    app_id: appId,
    cid,
    user_id: userId(i),
    channel_role: i === 0 ? 'owner' : 'channel_member',
    created_at: at + i,
    updated_at: at + i,
    truncated_at: null,
  }));
  return {
    channel: {
      app_id: appId,
      cid,
      type: 'messaging',
      id,
      created_by_id: userId(0),
      custom: JSON.stringify({ name: `Benchmark ${id}`, messages: messageCount }),
      member_count: memberCount,
      frozen: 0,
      disabled: 0,
      created_at: at,
      updated_at: at,
      deleted_at: null,
      truncated_at: null,
      truncated_by_id: null,
      last_message_at: null,
      skip_truncate: 0,
    },
    members,
  };
}

/** A long run of words that message texts are cut from: far cheaper than building each word by word. */
function corpus(random: () => number): string {
  const words: string[] = [];
  for (let length = 0; length < 1 << 20;) {
    const word = WORDS[Math.floor(random() * WORDS.length)]!;
    words.push(word, random() < 0.02 ? '\n' : ' ');
    length += word.length + 1;
  }
  return words.join('');
}

function text(random: () => number, words: string): string {
  const length = 20 + Math.floor(random() * 281);
  let start = Math.floor(random() * (words.length - length));
  // Start on a word, and never cut an emoji's surrogate pair in two.
  start = words.indexOf(' ', start) + 1;
  let end = start + length;
  if (words.charCodeAt(end - 1) >= 0xd800 && words.charCodeAt(end - 1) <= 0xdbff) end -= 1;
  return words.slice(start, end).trim();
}

/**
 * Ids that sort by creation time, as UUIDv7 and most generated ids do (microseconds, then the message's
 * number in its channel and a tag of the channel): primary-key inserts append to the index.
 */
function timeOrderedId(micros: number, index: number, channelTag: string): string {
  return `${micros.toString(16).padStart(13, '0')}-${index.toString(16).padStart(8, '0')}-${channelTag}`;
}

export interface MessageBatch {
  messages: MessageRow[];
  reactions: ReactionRow[];
}

/**
 * A channel's messages in batches of `batchSize`, created one about every millisecond from `startAt`.
 * Replies and quotes point at earlier messages of the same batch, so each batch is complete in itself
 * (its parents' reply counts included) and can be written in its own transaction.
 */
export function* seedMessages(options: {
  appId: number;
  cid: string;
  count: number;
  memberCount: number;
  startAt: number;
  seed: number;
  batchSize: number;
}): Generator<MessageBatch> {
  const { appId, cid, count, memberCount, batchSize } = options;
  const random = createRandom(options.seed);
  const words = corpus(random);
  const channelTag = Math.floor(random() * 2 ** 48)
    .toString(16)
    .padStart(12, '0');
  const pick = (n: number) => Math.floor(random() * n);
  let at = options.startAt;
  for (let start = 0; start < count; start += batchSize) {
    const messages: MessageRow[] = [];
    const reactions: ReactionRow[] = [];
    const topLevel: MessageRow[] = [];
    const end = Math.min(count, start + batchSize);
    for (let i = start; i < end; i++) {
      at += 500 + pick(1000);
      const body = text(random, words);
      const parent =
        topLevel.length > 0 && random() < 0.1
          ? topLevel[topLevel.length - 1 - pick(Math.min(50, topLevel.length))]!
          : undefined;
      const mentions =
        random() < 0.05
          ? [userId(pick(memberCount)), ...(random() < 0.3 ? [userId(pick(memberCount))] : [])]
          : [];
      const row: MessageRow = {
        app_id: appId,
        id: timeOrderedId(at, i, channelTag),
        cid,
        user_id: userId(pick(memberCount)),
        type: parent ? 'reply' : 'regular',
        text: body,
        html: renderHtml(body),
        parent_id: parent?.id ?? null,
        show_in_channel: parent && random() < 0.1 ? 1 : 0,
        quoted_message_id:
          messages.length > 0 && random() < 0.02 ? messages[pick(messages.length)]!.id : null,
        attachments:
          random() < 0.03
            ? JSON.stringify([
                { type: 'image', image_url: `https://example.com/img/${i}.jpg`, title: `photo ${i}` },
              ])
            : '[]',
        mentioned_users: mentions.length > 0 ? JSON.stringify([...new Set(mentions)]) : '[]',
        custom: random() < 0.05 ? JSON.stringify({ priority: pick(5), tags: ['bench'] }) : '{}',
        reply_count: 0,
        reaction_counts: '{}',
        reaction_scores: '{}',
        pinned: random() < 0.002 ? 1 : 0,
        silent: 0,
        created_at: at,
        updated_at: at,
        deleted_at: random() < 0.005 ? at + 1000 : null,
      };
      if (parent) parent.reply_count += 1;
      else topLevel.push(row);
      if (random() < 0.2) {
        const counts: Record<string, number> = {};
        const reactors = new Set<string>();
        const n = 1 + pick(3);
        for (let r = 0; r < n; r++) {
          const user = userId(pick(memberCount));
          if (reactors.has(user)) continue;
          reactors.add(user);
          const type = REACTION_TYPES[pick(REACTION_TYPES.length)]!;
          counts[type] = (counts[type] ?? 0) + 1;
          reactions.push({
            app_id: appId,
            message_id: row.id,
            user_id: user,
            type,
            score: 1,
            custom: '{}',
            created_at: at + 1 + r,
            updated_at: at + 1 + r,
          });
        }
        row.reaction_counts = JSON.stringify(counts);
        row.reaction_scores = JSON.stringify(counts);
      }
      messages.push(row);
    }
    yield { messages, reactions };
  }
}
