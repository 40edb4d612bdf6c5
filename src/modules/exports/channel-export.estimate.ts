/**
 * `dry_run: true` on `POST /export_channels`: what the export would carry, counted by the database,
 * and how large its file would be, estimated, without a task or a file. Counts use the indexes the
 * export reads by; the size is exact for what is encoded in JavaScript (channels, members, channel
 * mutes, users) and extrapolated for messages and reactions from the first SAMPLE_MESSAGES of each
 * channel, encoded by the same SQL as the file.
 */
import { sql } from 'kysely';
import { Type, type Static } from 'typebox';
import type { Context } from '../../context.js';
import type { ReadSession } from '../../database/dialects/read-session.js';
import { mutesOfChannel } from '../channels/channels.mutes.js';
import { membersOf } from '../channels/channels.repository.js';
import type { ChannelExportRequest } from './channel-export.request.js';
import {
  countMessages,
  messagesIn,
  pageRanges,
  referencedUserIds,
  UserCache,
  type MessageScope,
  type PageRange,
} from './channel-export.source.js';
import { resolveTargets, scopeOf, type ExportTarget } from './channel-export.targets.js';
import { NO_USERS, reactionLinesSql, v1PageQuery } from './channel-export.pages.js';
import {
  channelJsonV1,
  channelLineV2,
  channelMuteJsonV1,
  channelMuteLineV2,
  memberJsonV1,
  memberLineV2,
  missingUserJson,
  userJson,
  userLineV2,
} from './export-serializers.js';
import { exportSqlDialects, type ExportSqlDialect, type PageQuery } from './export-sql.dialects.js';
import { hasReactionsSql, messageLineV2Sql } from './export-sql.js';

/** Messages of each channel encoded to estimate the size of the rest. */
const SAMPLE_MESSAGES = 200;

const Count = Type.Integer({ minimum: 0 });

/** One channel's part of a dry run. */
const ChannelExportEstimate = Type.Object({
  cid: Type.String(),
  messages: Count,
  members: Count,
  channel_mutes: Count,
  reactions: Type.Integer({ minimum: 0, description: 'reactions on those messages' }),
  users: Type.Integer({
    minimum: 0,
    description: 'existing users its records name (members, authors, mentions, reactors, creator)',
  }),
  estimated_size: Type.Integer({ minimum: 0, description: 'bytes of the file this channel would take' }),
});
type ChannelExportEstimate = Static<typeof ChannelExportEstimate>;

/** The answer to `POST /export_channels` with `dry_run: true` (the OpenAPI document's, too). */
export const ChannelExportDryRun = Type.Object({
  dry_run: Type.Literal(true),
  version: Type.String(),
  channels: Type.Array(ChannelExportEstimate),
  skipped_channels: Type.Array(
    Type.Object({ cid: Type.String(), reason: Type.String({ description: 'soft_deleted or not_found' }) }),
  ),
  totals: Type.Object({
    channels: Count,
    messages: Count,
    members: Count,
    channel_mutes: Count,
    reactions: Count,
    users: Type.Integer({ minimum: 0, description: 'v1: summed over channels; v2: distinct' }),
  }),
  estimated_size: Type.Integer({ minimum: 0, description: 'bytes of the whole file, estimated' }),
  duration: Type.Optional(Type.String()),
});
export type ChannelExportDryRun = Static<typeof ChannelExportDryRun>;

/** Counts a dry run and estimates the file's size; reads only, writes nothing. */
export async function estimateChannelExport(
  context: Context,
  appId: number,
  request: ChannelExportRequest,
): Promise<ChannelExportDryRun> {
  const { targets, skipped } = await resolveTargets(context.db, appId, request);
  const exportSql = exportSqlDialects[context.dialect.name];
  // Three: referencedUserIds runs its three queries at once.
  return context.dialect.readSession({ parallelism: 3 }, async (session) => {
    const channels: ChannelExportEstimate[] = [];
    const allUsers = new Set<string>();
    const users = new UserCache(
      session.db,
      appId,
      request.version === 'v2' ? userLineV2 : userJson,
      missingUserJson,
    );
    let size = request.version === 'v2' ? 0 : '[]\n'.length;
    for (const [index, target] of targets.entries()) {
      const estimate = await estimateChannel(session, exportSql, appId, request, target, users);
      for (const id of estimate.userIds) allUsers.add(id);
      channels.push(estimate.channel);
      size += estimate.channel.estimated_size + (request.version === 'v1' && index > 0 ? 1 : 0);
    }
    const totals = {
      channels: channels.length,
      messages: sum(channels, 'messages'),
      members: sum(channels, 'members'),
      channel_mutes: sum(channels, 'channel_mutes'),
      reactions: sum(channels, 'reactions'),
      // v1 repeats a user in every channel record naming them; v2 writes each once.
      users: request.version === 'v2' ? allUsers.size : sum(channels, 'users'),
    };
    if (request.version === 'v2' && request.exportUsers)
      for (const id of allUsers) size += users.get(id).length;
    return {
      dry_run: true as const,
      version: request.version,
      channels,
      skipped_channels: skipped,
      totals,
      estimated_size: size,
    };
  });
}

function sum(channels: ChannelExportEstimate[], key: keyof ChannelExportEstimate): number {
  return channels.reduce((total, channel) => total + (channel[key] as number), 0);
}

async function estimateChannel(
  session: ReadSession,
  exportSql: ExportSqlDialect,
  appId: number,
  request: ChannelExportRequest,
  target: ExportTarget,
  users: UserCache,
): Promise<{ channel: ChannelExportEstimate; userIds: string[] }> {
  const { db } = session;
  const { channel } = target;
  const scope = scopeOf(appId, target, request);
  const members = await membersOf(db, appId, channel.cid);
  const mutes = await mutesOfChannel(db, appId, channel.cid);
  const messages = await countMessages(db, scope);
  const { rows } = await sql<{ total: number | string }>`
    select count(*) as total from messages m cross join reactions r
    where ${messagesIn(scope)} and r.app_id = m.app_id and r.message_id = m.id`.execute(db);
  const reactions = Number(rows[0]?.total ?? 0);

  const named = new Set<string>([...members, ...mutes].map((m) => m.user_id));
  if (channel.created_by_id) named.add(channel.created_by_id);
  if (channel.truncated_by_id) named.add(channel.truncated_by_id);
  for (const id of await referencedUserIds(session, exportSql, scope)) named.add(id);
  await users.load(named);
  const userIds = [...named].filter((id) => users.rows.has(id));

  const sample = await sampleMessages(session, exportSql, request, target, scope);
  const perMessage = sample.messages === 0 ? 0 : sample.bytes / sample.messages;
  const perReaction = sample.reactions === 0 ? 0 : sample.reactionBytes / sample.reactions;
  let size = Math.round(perMessage * messages);
  if (request.version === 'v2') {
    size += channelLineV2(channel).length + members.map((m) => memberLineV2(m, channel)).join('').length;
    size += mutes.map((m) => channelMuteLineV2(m, channel)).join('').length;
    size += Math.round(perReaction * reactions);
  } else {
    const user = (id: string) => users.get(id);
    size +=
      `{"channel":${channelJsonV1(channel, user)},"members":[${members
        .map((m) => memberJsonV1(m, user(m.user_id)))
        .join(',')}],"channel_mutes":[${mutes
        .map((m) => channelMuteJsonV1(m, user(m.user_id)))
        .join(',')}],"messages":[]}`.length + Math.max(0, messages - 1);
    if (request.exportUsers) size += `,"users":[${userIds.map((id) => users.get(id)).join(',')}]`.length;
  }
  return {
    channel: {
      cid: channel.cid,
      messages,
      members: members.length,
      channel_mutes: mutes.length,
      reactions,
      users: userIds.length,
      estimated_size: size,
    },
    userIds,
  };
}

/**
 * The first messages of a channel encoded as the file would hold them: their number and bytes (v1:
 * with the reactions they embed), and in v2 the bytes and number of their reactions' lines.
 */
async function sampleMessages(
  session: ReadSession,
  exportSql: ExportSqlDialect,
  request: ChannelExportRequest,
  target: ExportTarget,
  scope: MessageScope,
): Promise<{ messages: number; bytes: number; reactions: number; reactionBytes: number }> {
  let range: PageRange = {};
  for await (const first of pageRanges(session.db, scope, () => SAMPLE_MESSAGES)) {
    range = first;
    break;
  }
  const encode = async (query: PageQuery) => {
    const page = (await session.db.executeQuery(exportSql.page(query).compile(session.db))).rows[0];
    const body = page?.body ?? null;
    return { entities: Number(page?.entities ?? 0), body: body === null ? '' : body.toString() };
  };
  const order = { orderBy: 'm.created_at, m.id', separator: '' };
  if (request.version === 'v1') {
    // Users from the users table rather than the export's own: the same JSON.
    const page = await encode({
      ...v1PageQuery(exportSql, NO_USERS, request.clearDeletedMessageText)(scope, range),
      separator: '',
    });
    return { messages: page.entities, bytes: Buffer.byteLength(page.body), reactions: 0, reactionBytes: 0 };
  }
  const lines = await encode({
    ...order,
    encoded: messageLineV2Sql(exportSql, 'm', target.channel, request.clearDeletedMessageText),
    source: sql`from messages m where ${messagesIn(scope, range)}`,
  });
  const reactionLines = await encode({
    ...order,
    encoded: reactionLinesSql(exportSql),
    source: sql`from messages m where ${messagesIn(scope, range)} and ${sql.raw(hasReactionsSql('m'))}`,
  });
  return {
    messages: lines.entities,
    bytes: Buffer.byteLength(lines.body),
    reactions: reactionLines.body.split('\n').length - 1,
    reactionBytes: Buffer.byteLength(reactionLines.body),
  };
}
