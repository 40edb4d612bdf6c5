/**
 * `dry_run: true` on `POST /export/users`: each user's counts and the estimated size of their block,
 * without a task or a file. The size is exact for the user, their memberships and their channel mutes,
 * and extrapolated for messages and reactions from the first SAMPLE_ROWS of each, encoded as the file
 * would hold them.
 */
import { Writable } from 'node:stream';
import type { Kysely } from 'kysely';
import { Type, type Static } from 'typebox';
import type { Database } from '../../database/database.types.js';
import { ExportSink } from '../exports/export-sink.js';
import { writeUserBlock, type UserExportCounts } from './user-export.writer.js';

/** Messages and reactions of each user encoded to estimate the size of the rest. */
const SAMPLE_ROWS = 200;

const Count = Type.Integer({ minimum: 0 });

/** The answer to `POST /export/users` with `dry_run: true` (the OpenAPI document's, too). */
export const UserExportDryRun = Type.Object({
  dry_run: Type.Literal(true),
  users: Type.Array(
    Type.Object({
      user_id: Type.String(),
      messages: Count,
      reactions: Type.Integer({ minimum: 0, description: 'reactions the user gave' }),
      members: Type.Integer({ minimum: 0, description: 'channels the user is a member of' }),
      channel_mutes: Type.Integer({ minimum: 0, description: 'channels the user muted, expired mutes too' }),
      estimated_size: Type.Integer({ minimum: 0, description: 'bytes of the user’s block of the file' }),
    }),
  ),
  totals: Type.Object({
    users: Count,
    messages: Count,
    reactions: Count,
    members: Count,
    channel_mutes: Count,
  }),
  estimated_size: Type.Integer({ minimum: 0, description: 'bytes of the whole file, estimated' }),
  duration: Type.Optional(Type.String()),
});
export type UserExportDryRun = Static<typeof UserExportDryRun>;

async function countOf(
  db: Kysely<Database>,
  table: 'messages' | 'reactions' | 'members' | 'channel_mutes',
  appId: number,
  userId: string,
): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number | string>().as('total'))
    .where('app_id', '=', appId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return Number(row?.total ?? 0);
}

/** Counts a dry run of a user export and estimates its file's size; reads only. */
export async function estimateUserExport(
  db: Kysely<Database>,
  appId: number,
  userIds: string[],
  /** `sample: false`: the counts only, estimated_size 0 (a running export's messages_total). */
  { sample = true }: { sample?: boolean } = {},
): Promise<UserExportDryRun> {
  const users: UserExportDryRun['users'] = [];
  for (const userId of userIds) {
    const messages = await countOf(db, 'messages', appId, userId);
    const reactions = await countOf(db, 'reactions', appId, userId);
    const members = await countOf(db, 'members', appId, userId);
    const mutes = await countOf(db, 'channel_mutes', appId, userId);
    if (!sample) {
      users.push({ user_id: userId, messages, reactions, members, channel_mutes: mutes, estimated_size: 0 });
      continue;
    }
    // The block's first rows written for real, into nothing: the bytes of the head and of each kind.
    const bytesAt: Partial<Record<'head' | 'messages' | 'reactions', number>> = {};
    const sampled: UserExportCounts = { users: 0, members: 0, channel_mutes: 0, messages: 0, reactions: 0 };
    const sink = new ExportSink(new Writable({ write: (_chunk, _encoding, callback) => callback() }));
    await writeUserBlock(db, appId, userId, sink, sampled, new AbortController().signal, {
      sample: SAMPLE_ROWS,
      onSection: (section, _counts, bytes) => {
        bytesAt[section] = bytes;
      },
    });
    await sink.flush();
    const head = bytesAt.head ?? 0;
    const afterMessages = bytesAt.messages ?? head;
    const afterReactions = bytesAt.reactions ?? afterMessages;
    const perMessage = sampled.messages === 0 ? 0 : (afterMessages - head) / sampled.messages;
    const perReaction = sampled.reactions === 0 ? 0 : (afterReactions - afterMessages) / sampled.reactions;
    users.push({
      user_id: userId,
      messages,
      reactions,
      members,
      channel_mutes: mutes,
      estimated_size: Math.round(head + perMessage * messages + perReaction * reactions),
    });
  }
  const total = (key: 'messages' | 'reactions' | 'members' | 'channel_mutes' | 'estimated_size') =>
    users.reduce((sum, user) => sum + user[key], 0);
  return {
    dry_run: true,
    users,
    totals: {
      users: users.length,
      messages: total('messages'),
      reactions: total('reactions'),
      members: total('members'),
      channel_mutes: total('channel_mutes'),
    },
    estimated_size: total('estimated_size'),
  };
}
