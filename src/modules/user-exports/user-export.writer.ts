import type { Kysely } from 'kysely';
import type { ChannelRow, Database, MessageRow, ReactionRow } from '../../database/database.types.js';
import { formatMicros } from '../../lib/time.js';
import { mutesOfUser } from '../channels/channels.mutes.js';
import { findChannelsByCids } from '../channels/channels.repository.js';
import { UserCache } from '../exports/channel-export.source.js';
import {
  channelJsonV1,
  channelMuteJsonV1,
  memberJsonV1,
  messageJsonV1,
  missingUserJson,
  reactionJson,
  userJson,
} from '../exports/export-serializers.js';
import type { ExportSink } from '../exports/export-sink.js';
import { reactionsByMessage } from '../reactions/reactions.repository.js';
import { findUser } from '../users/users.repository.js';

/** Rows read per query: memory stays flat whatever a user wrote. */
const PAGE_SIZE = 2000;

export interface UserExportCounts {
  users: number;
  members: number;
  channel_mutes: number;
  messages: number;
  reactions: number;
}

const q = JSON.stringify;

/** A user's messages in (created_at, id) order, by keyset pages on the messages_user_time index. */
async function* userMessagePages(
  db: Kysely<Database>,
  appId: number,
  userId: string,
  pageSize = PAGE_SIZE,
): AsyncGenerator<MessageRow[]> {
  let after: { createdAt: number; id: string } | undefined;
  for (;;) {
    const cursor = after;
    let query = db
      .selectFrom('messages')
      .selectAll()
      .where('app_id', '=', appId)
      .where('user_id', '=', userId);
    if (cursor) {
      // A row comparison: both databases seek the index to the cursor, where the OR form scans.
      query = query.where((eb) =>
        eb(eb.refTuple('created_at', 'id'), '>', eb.tuple(cursor.createdAt, cursor.id)),
      );
    }
    const rows = await query.orderBy('created_at').orderBy('id').limit(pageSize).execute();
    if (rows.length > 0) yield rows;
    if (rows.length < pageSize) return;
    const last = rows[rows.length - 1]!;
    after = { createdAt: last.created_at, id: last.id };
  }
}

/** The reactions a user gave, in (created_at, message_id, type) order, by keyset pages. */
async function* userReactionPages(
  db: Kysely<Database>,
  appId: number,
  userId: string,
  pageSize = PAGE_SIZE,
): AsyncGenerator<ReactionRow[]> {
  let after: ReactionRow | undefined;
  for (;;) {
    const cursor = after;
    let query = db
      .selectFrom('reactions')
      .selectAll()
      .where('app_id', '=', appId)
      .where('user_id', '=', userId);
    if (cursor) {
      query = query.where((eb) =>
        eb(
          eb.refTuple('created_at', 'message_id', 'type'),
          '>',
          eb.tuple(cursor.created_at, cursor.message_id, cursor.type),
        ),
      );
    }
    const rows = await query
      .orderBy('created_at')
      .orderBy('message_id')
      .orderBy('type')
      .limit(pageSize)
      .execute();
    if (rows.length > 0) yield rows;
    if (rows.length < pageSize) return;
    after = rows[rows.length - 1]!;
  }
}

/** The parts of a user's block: the user, memberships and channel mutes, then messages, then reactions. */
export type UserBlockSection = 'head' | 'messages' | 'reactions';

export interface UserBlockOptions {
  /** Write only the first `sample` messages and reactions (a dry run's size estimate). */
  sample?: number;
  /** Told when the head is written and after each page, with the counts and the file's length. */
  onSection?: (section: UserBlockSection, counts: UserExportCounts, bytes: number) => Promise<void> | void;
}

/**
 * Writes one user's block of an asynchronous user export: the user, their channel memberships and
 * channel mutes, every message they wrote and every reaction they gave, one JSON line each
 * (docs/exports.md). Soft-deleted data is carried and marked (deleted_at, channel_deleted_at);
 * hard-deleted data is gone from the database and so from the file. Returns false when the user no longer exists.
 */
export async function writeUserBlock(
  db: Kysely<Database>,
  appId: number,
  userId: string,
  sink: ExportSink,
  counts: UserExportCounts,
  signal: AbortSignal,
  options: UserBlockOptions = {},
): Promise<boolean> {
  const pageSize = options.sample ?? PAGE_SIZE;
  const report = async (section: UserBlockSection) => {
    if (!options.onSection) return;
    // Told the file's length, so what was written must be in it.
    await sink.flush();
    await options.onSection(section, counts, sink.bytes);
  };
  const user = await findUser(db, appId, userId);
  if (!user) return false;
  const users = new UserCache(db, appId, userJson, missingUserJson);
  const channels = new Map<string, ChannelRow>();
  const channelOf = async (cids: string[]) => {
    const missing = cids.filter((cid) => !channels.has(cid));
    if (missing.length > 0)
      for (const [cid, row] of await findChannelsByCids(db, appId, missing)) channels.set(cid, row);
  };
  const line = (type: string, data: string) => `{"type":${q(type)},"user_id":${q(userId)},"data":${data}}\n`;

  await sink.write(line('user', userJson(user)));
  counts.users += 1;

  const memberships = await db
    .selectFrom('members')
    .selectAll()
    .where('app_id', '=', appId)
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .orderBy('cid')
    .execute();
  // Every mute the user holds, expired ones too: a subject-access request sees everything stored.
  const mutes = await mutesOfUser(db, appId, userId);
  await channelOf([...memberships, ...mutes].map((m) => m.cid));
  await users.load([
    userId,
    ...[...channels.values()].flatMap((c) =>
      [c.created_by_id, c.truncated_by_id].filter((id): id is string => id !== null),
    ),
  ]);
  for (const member of memberships) {
    const channel = channels.get(member.cid);
    if (!channel) continue;
    // The member as a v1 channel export has it, named by its channel's cid and carrying the channel.
    const memberJson = memberJsonV1(member, users.get(userId));
    await sink.write(
      line(
        'member',
        `{"cid":${q(member.cid)},${memberJson.slice(1, -1)},"channel":${channelJsonV1(channel, (id) => users.get(id))}}`,
      ),
    );
    counts.members += 1;
  }
  for (const mute of mutes) {
    const channel = channels.get(mute.cid);
    if (!channel) continue;
    const json = channelMuteJsonV1(
      mute,
      users.get(userId),
      channelJsonV1(channel, (id) => users.get(id)),
    );
    await sink.write(line('channel_mute', json));
    counts.channel_mutes += 1;
  }

  await report('head');
  for await (const page of userMessagePages(db, appId, userId, pageSize)) {
    signal.throwIfAborted();
    await channelOf([...new Set(page.map((m) => m.cid))]);
    const reactions = await reactionsByMessage(
      db,
      appId,
      page.map((m) => m.id),
    );
    const ids = new Set<string>();
    for (const row of page) {
      ids.add(row.user_id);
      if (row.mentioned_users.length > 2)
        for (const id of JSON.parse(row.mentioned_users) as string[]) ids.add(id);
      for (const r of reactions.get(row.id) ?? []) ids.add(r.user_id);
    }
    await users.load(ids);
    const parts: string[] = [];
    for (const row of page) {
      const list = reactions.get(row.id) ?? [];
      let json = messageJsonV1(row, {
        user: (id) => users.get(id),
        reactions: `[${list.map((r) => reactionJson(r, users.get(r.user_id))).join(',')}]`,
        clearDeletedText: false,
      });
      const channelDeletedAt = channels.get(row.cid)?.deleted_at;
      if (channelDeletedAt !== null && channelDeletedAt !== undefined) {
        json = `${json.slice(0, -1)},"channel_deleted_at":"${formatMicros(channelDeletedAt)}"}`;
      }
      parts.push(line('message', json));
    }
    await sink.write(parts.join(''));
    counts.messages += page.length;
    await report('messages');
    if (options.sample) break;
  }

  const self = userJson(user);
  for await (const page of userReactionPages(db, appId, userId, pageSize)) {
    signal.throwIfAborted();
    await sink.write(page.map((r) => line('reaction', reactionJson(r, self))).join(''));
    counts.reactions += page.length;
    await report('reactions');
    if (options.sample) break;
  }
  return true;
}
