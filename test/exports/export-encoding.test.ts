/**
 * Exports are encoded by the database (src/modules/exports/export-sql.ts); these tests hold every byte
 * of the files to what the JavaScript encoders (export-serializers.ts) make of the same rows, on data
 * chosen to be awkward: escapes and control characters, non-ASCII text, custom fields, times before
 * 1970 and in the year 0, deleted and missing users, banned and deactivated users, a channel truncated
 * (before any of its messages) by a user it names nowhere else, channel mutes (expired, by a user
 * with no row, before 1970), and more messages than one page holds.
 */
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ChannelMuteRow,
  ChannelRow,
  Database,
  MemberRow,
  MessageRow,
  ReactionRow,
  UserRow,
} from '../../src/database/database.types.js';
import {
  channelJsonV1,
  channelLineV2,
  channelMuteJsonV1,
  memberJsonV1,
  memberLineV2,
  messageJsonV1,
  missingUserJson,
  reactionJson,
  userJson,
  userLineV2,
} from '../../src/modules/exports/export-serializers.js';
import { channelMuteLineV2, messageLineV2, reactionLineV2 } from '../helpers/export-encoders.js';
import { testDialects } from '../helpers/databases.js';
import { exportAndDownload } from '../helpers/exports.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** More than a v1 page (2,000) and a v2 page (5,000) hold, so pages are joined. */
const MESSAGES = 5200;
const T0 = 1_700_000_000_000_000;
const AWKWARD = [
  'plain',
  'quotes " and \\ backslash / slash',
  'control \u0001\u0008\t\n\f\r\u001f and \u007f',
  'accents café naïve, 東京, привет, emoji 🎉👍🏽',
  'html <b>&amp;</b> \u2028 line separators \u2029',
  "apostrophe ' and ''doubled''",
];

interface Data {
  users: UserRow[];
  channel: ChannelRow;
  members: MemberRow[];
  /** In export order: (created_at, user_id). */
  mutes: ChannelMuteRow[];
  messages: MessageRow[];
  reactions: ReactionRow[];
}

function awkwardData(appId: number, dialect: string): Data {
  const at = (i: number) => T0 + i * 1000;
  const user = (id: string, i: number, extra: Partial<UserRow> = {}): UserRow => ({
    app_id: appId,
    id,
    role: i === 0 ? 'admin' : 'user',
    custom: i % 2 === 0 ? JSON.stringify({ name: AWKWARD[i % AWKWARD.length], n: i }) : '{}',
    teams: i === 1 ? '["red","blue"]' : '[]',
    banned: i === 2 ? 1 : 0,
    created_at: at(i),
    updated_at: at(i) + 7,
    deleted_at: null,
    deactivated_at: null,
    ...extra,
  });
  const users = [
    user('ann', 0),
    user('ben', 1),
    user('cat', 2, { deleted_at: T0 + 5 }),
    user('dan', 3, { deactivated_at: -1_234_567 }),
    // Before 1970, and (SQLite only: PostgreSQL counts it as 1 BC) in the year 0.
    user('eve', 4, {
      created_at: dialect === 'postgres' ? -62_135_596_800_000_008 : -62_167_219_200_000_000,
    }),
    // Banned, deactivated, and named only as the channel's truncating user.
    user('fay', 5, { banned: 1, deactivated_at: T0 + 123_456 }),
  ];
  const channel: ChannelRow = {
    app_id: appId,
    cid: 'messaging:awkward',
    type: 'messaging',
    id: 'awkward',
    created_by_id: 'ann',
    custom: JSON.stringify({ topic: AWKWARD[3], nested: { a: [1, 2] } }),
    member_count: 3,
    frozen: 1,
    disabled: 0,
    created_at: T0,
    updated_at: T0 + 1,
    deleted_at: null,
    // Before every message (the first ones predate 1970), so none is left out.
    truncated_at: -2_000_000_001,
    truncated_by_id: 'fay',
    last_message_at: null,
    skip_truncate: 0,
  };
  const members: MemberRow[] = ['ann', 'ben', 'gone'].map((id, i) => ({
    app_id: appId,
    cid: channel.cid,
    user_id: id,
    channel_role: i === 0 ? 'owner' : i === 1 ? 'channel_moderator' : 'channel_member',
    created_at: at(i),
    updated_at: at(i),
    truncated_at: null,
    custom: i === 1 ? JSON.stringify({ code_name: AWKWARD[2], nested: { n: 1 } }) : '{}',
    invited: i === 2 ? 1 : 0,
    invite_accepted_at: i === 2 ? at(i) + 1 : null,
    invite_rejected_at: null,
    pinned_at: i === 1 ? at(i) + 2 : null,
    archived_at: i === 0 ? at(i) + 3 : null,
    hidden: i === 0 ? 1 : 0,
    hide_messages_before: i === 0 ? at(i) + 4 : null,
  }));
  // Expired (before 1970), by a user with no row, and until unmuted; two share a time.
  const mutes: ChannelMuteRow[] = [
    { user_id: 'eve', created_at: -5, updated_at: -4, expires_at: null },
    { user_id: 'ben', created_at: T0, updated_at: T0 + 3, expires_at: -7 },
    { user_id: 'gone', created_at: T0, updated_at: T0 + 1, expires_at: T0 + 2 },
  ].map((mute) => ({ app_id: appId, cid: channel.cid, ...mute }));
  const authors = ['ann', 'ben', 'cat', 'dan', 'eve', 'gone'];
  const messages: MessageRow[] = [];
  const reactions: ReactionRow[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    const text = `${AWKWARD[i % AWKWARD.length]} #${i}`;
    const parent = i % 10 === 9 ? messages[i - 1]! : undefined;
    messages.push({
      app_id: appId,
      // Same length, digits only after the prefix: ordered alike by every collation.
      id: `m${String(i).padStart(5, '0')}`,
      cid: channel.cid,
      user_id: authors[i % authors.length]!,
      type: parent ? 'reply' : i % 97 === 0 ? 'system' : 'regular',
      text,
      html: `<p>${text}</p>\n`,
      parent_id: parent?.id ?? null,
      show_in_channel: parent && i % 20 === 19 ? 1 : 0,
      quoted_message_id: i % 13 === 12 ? messages[i - 3]!.id : null,
      attachments: i % 7 === 0 ? JSON.stringify([{ type: 'file', title: AWKWARD[1] }]) : '[]',
      mentioned_users: i % 11 === 0 ? JSON.stringify(['ben', 'gone', 'cat']) : '[]',
      custom: i % 5 === 0 ? JSON.stringify({ mood: AWKWARD[2], score: 1.5, flag: true }) : '{}',
      reply_count: i % 10 === 8 ? 1 : 0,
      reaction_counts: i % 4 === 0 ? '{"like":2}' : '{}',
      reaction_scores: i % 4 === 0 ? '{"like":3}' : '{}',
      pinned: i % 50 === 0 ? 1 : 0,
      silent: i % 60 === 0 ? 1 : 0,
      // Pairs of messages share a time, so the id decides their order; the first ones predate 1970.
      created_at: i < 10 ? -1_000_000_000 + Math.floor(i / 2) : T0 + Math.floor(i / 2) * 1000,
      updated_at: i < 10 ? -1_000_000_000 + Math.floor(i / 2) : T0 + Math.floor(i / 2) * 1000 + (i % 3),
      deleted_at: i % 31 === 0 ? T0 + 999_999_999 : null,
    });
    if (i % 4 === 0) {
      for (const [k, reactor] of ['ann', 'gone'].entries()) {
        reactions.push({
          app_id: appId,
          message_id: messages[i]!.id,
          user_id: reactor,
          type: k === 0 ? 'like' : 'wow',
          score: k + 1,
          custom: k === 1 ? JSON.stringify({ note: AWKWARD[4] }) : '{}',
          created_at: T0 + i * 1000 + (i % 8 === 0 ? 0 : k),
          updated_at: T0 + i * 1000 + 5,
        });
      }
    }
  }
  return { users, channel, members, mutes, messages, reactions };
}

/** The file the JavaScript encoders make of the data: what the database-built export must equal. */
function expectedFile(data: Data, version: 'v1' | 'v2', exportUsers: boolean, clearText: boolean): string {
  const byId = new Map(data.users.map((u) => [u.id, u]));
  const userV1 = (id: string) => {
    const row = byId.get(id);
    return row ? userJson(row) : missingUserJson(id);
  };
  const reactionsOf = (id: string) =>
    data.reactions
      .filter((r) => r.message_id === id)
      .sort(
        (a, b) =>
          b.created_at - a.created_at || a.user_id.localeCompare(b.user_id) || a.type.localeCompare(b.type),
      );
  const referenced = new Set<string>();
  for (const m of data.messages) {
    referenced.add(m.user_id);
    for (const id of JSON.parse(m.mentioned_users) as string[]) referenced.add(id);
  }
  for (const r of data.reactions) referenced.add(r.user_id);
  const { created_by_id: creator, truncated_by_id: truncatedBy } = data.channel;
  const named = [
    ...data.members.map((m) => m.user_id),
    ...data.mutes.map((m) => m.user_id),
    creator!,
    truncatedBy!,
    ...referenced,
  ];
  if (version === 'v2') {
    const ids = new Set(named);
    const users = exportUsers
      ? [...ids].sort().flatMap((id) => (byId.has(id) ? [userLineV2(byId.get(id)!)] : []))
      : [];
    return [
      ...users,
      channelLineV2(data.channel),
      ...data.members.map((m) => memberLineV2(m, data.channel)),
      ...data.mutes.map((m) => channelMuteLineV2(m, data.channel)),
      ...data.messages.map((m) => messageLineV2(m, data.channel, clearText)),
      ...data.messages.flatMap((m) => reactionsOf(m.id).reverse().map(reactionLineV2)),
    ].join('');
  }
  const messages = data.messages.map((m) =>
    messageJsonV1(m, {
      user: userV1,
      reactions: `[${reactionsOf(m.id)
        .map((r) => reactionJson(r, userV1(r.user_id)))
        .join(',')}]`,
      clearDeletedText: clearText,
    }),
  );
  const ids = new Set(named);
  const users = [...ids].sort().filter((id) => byId.has(id));
  return (
    `[{"channel":${channelJsonV1(data.channel, userV1)},"members":[${data.members
      .map((m) => memberJsonV1(m, userV1(m.user_id)))
      .join(',')}],"channel_mutes":[${data.mutes
      .map((m) => channelMuteJsonV1(m, userV1(m.user_id)))
      .join(',')}],"messages":[${messages.join(',')}]` +
    (exportUsers ? `,"users":[${users.map(userV1).join(',')}]` : '') +
    '}]\n'
  );
}

describe.each(testDialects)(
  'exports encoded by the database equal the JavaScript encoders (%s)',
  (dialect) => {
    let t: TestServer;
    let data: Data;

    beforeAll(async () => {
      t = await startTestServer(dialect);
      const db: Kysely<Database> = t.server.context.db;
      const app = { id: t.app.id };
      data = awkwardData(app.id, dialect);
      // Text with a NUL character is SQLite's alone: PostgreSQL's text type refuses it.
      if (dialect === 'sqlite') data.messages[1]!.text = 'nul \u0000 inside';
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('users').values(data.users).execute();
        await trx.insertInto('channels').values(data.channel).execute();
        await trx.insertInto('members').values(data.members).execute();
        await trx.insertInto('channel_mutes').values(data.mutes).execute();
        for (let i = 0; i < data.messages.length; i += 500)
          await trx
            .insertInto('messages')
            .values(data.messages.slice(i, i + 500))
            .execute();
        for (let i = 0; i < data.reactions.length; i += 500)
          await trx
            .insertInto('reactions')
            .values(data.reactions.slice(i, i + 500))
            .execute();
      });
      // The export's order is (created_at, id), as the database sorts them.
      data.messages.sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1));
    }, 120_000);
    afterAll(() => t.close());

    for (const version of ['v1', 'v2'] as const) {
      for (const [exportUsers, clearText] of [
        [false, false],
        [true, true],
      ] as const) {
        it(`${version}${exportUsers ? ' with export_users and clear_deleted_message_text' : ''}, byte for byte`, async () => {
          const { text } = await exportAndDownload(t.app.client, [{ cid: data.channel.cid }], {
            version,
            export_users: exportUsers,
            clear_deleted_message_text: clearText,
          });
          const expected = expectedFile(data, version, exportUsers, clearText);
          expect(text.length).toBe(expected.length);
          // Compared line by line first, so a difference is reported where it is, not as a 5 MB diff.
          const lines = text.split(/(?<=\n)|(?<=\},)(?=\{")/);
          const expectedLines = expected.split(/(?<=\n)|(?<=\},)(?=\{")/);
          for (let i = 0; i < expectedLines.length; i++) expect(lines[i], `part ${i}`).toBe(expectedLines[i]);
          expect(text === expected).toBe(true);
          if (version === 'v2') {
            expect(text).toContain(`"truncated_by":"fay"`);
            if (exportUsers)
              expect(text).toMatch(
                /"id":"fay".*"banned":true.*"deactivated_at":"2023-11-14T22:13:20\.123456Z"/,
              );
          }
        });
      }
    }
  },
);
