/**
 * JSON for export files, built by concatenating precomputed pieces: stored JSON columns (custom data,
 * attachments, reaction summaries) are spliced in as they are, each user is serialised once, and only
 * strings are escaped. Pure functions: no database, no clock.
 */
import type {
  ChannelRow,
  MemberRow,
  MessageRow,
  ReactionRow,
  UserRow,
} from '../../database/database.types.js';
import { formatMicros } from '../../lib/time.js';

const q = JSON.stringify;

/** `{"a":1}` → `"a":1,` (empty for `{}`): custom fields spliced before the known ones. */
function customPrefix(customJson: string): string {
  return customJson.length > 2 ? `${customJson.slice(1, -1)},` : '';
}

function time(micros: number): string {
  return `"${formatMicros(micros)}"`;
}

/** A user as the API shows it (UserResponse). */
export function userJson(row: UserRow): string {
  let json =
    `{${customPrefix(row.custom)}"id":${q(row.id)},"role":${q(row.role)},"teams":${row.teams},` +
    `"banned":${row.banned === 1},"online":false,"created_at":${time(row.created_at)},"updated_at":${time(row.updated_at)}`;
  if (row.deleted_at !== null) json += `,"deleted_at":${time(row.deleted_at)}`;
  if (row.deactivated_at !== null) json += `,"deactivated_at":${time(row.deactivated_at)}`;
  return `${json}}`;
}

/** A user whose record was hard-deleted, as messages still name them. */
export function missingUserJson(id: string): string {
  return `{"id":${q(id)},"role":"user","teams":[],"banned":false,"online":false,"deleted":true}`;
}

export function reactionJson(row: ReactionRow, user: string): string {
  return (
    `{${customPrefix(row.custom)}"message_id":${q(row.message_id)},"user_id":${q(row.user_id)},"user":${user},` +
    `"type":${q(row.type)},"score":${row.score},"created_at":${time(row.created_at)},"updated_at":${time(row.updated_at)}}`
  );
}

export interface MessagePieces {
  /** Serialised user by id (the caller caches them). */
  user(id: string): string;
  /** `[...]` of every reaction on the message, newest first. */
  reactions: string;
  clearDeletedText: boolean;
}

/**
 * A message as the API shows it (MessageResponse), except that `latest_reactions` carries every
 * reaction, not the newest ten: an export is a complete record.
 */
export function messageJsonV1(row: MessageRow, pieces: MessagePieces): string {
  const deleted = row.deleted_at !== null;
  const blank = deleted && pieces.clearDeletedText;
  let mentioned = '[]';
  if (row.mentioned_users.length > 2) {
    mentioned = `[${(JSON.parse(row.mentioned_users) as string[]).map((id) => pieces.user(id)).join(',')}]`;
  }
  let json =
    `{${customPrefix(row.custom)}"id":${q(row.id)},"cid":${q(row.cid)},"text":${blank ? '""' : q(row.text)},` +
    `"html":${blank ? '""' : q(row.html)},"type":${deleted ? '"deleted"' : q(row.type)},"user":${pieces.user(row.user_id)},` +
    `"attachments":${row.attachments},"mentioned_users":${mentioned},"latest_reactions":${pieces.reactions},` +
    `"own_reactions":[],"reaction_counts":${row.reaction_counts},"reaction_scores":${row.reaction_scores},` +
    `"reply_count":${row.reply_count},"deleted_reply_count":0,"pinned":${row.pinned === 1},"silent":${row.silent === 1},` +
    `"shadowed":false,"created_at":${time(row.created_at)},"updated_at":${time(row.updated_at)}`;
  if (row.parent_id !== null)
    json += `,"parent_id":${q(row.parent_id)},"show_in_channel":${row.show_in_channel === 1}`;
  if (row.quoted_message_id !== null) json += `,"quoted_message_id":${q(row.quoted_message_id)}`;
  if (deleted) json += `,"deleted_at":${time(row.deleted_at!)}`;
  return `${json}}`;
}

export function memberJsonV1(row: MemberRow, user: string): string {
  const role =
    row.channel_role === 'channel_moderator'
      ? 'moderator'
      : row.channel_role === 'owner'
        ? 'owner'
        : 'member';
  return (
    `{"user_id":${q(row.user_id)},"user":${user},"channel_role":${q(row.channel_role)},"role":${q(role)},` +
    `"created_at":${time(row.created_at)},"updated_at":${time(row.updated_at)},"banned":false,"shadow_banned":false,` +
    `"notifications_muted":false}`
  );
}

export function channelJsonV1(row: ChannelRow, user: (id: string) => string): string {
  let json =
    `{${customPrefix(row.custom)}"id":${q(row.id)},"type":${q(row.type)},"cid":${q(row.cid)},` +
    `"created_at":${time(row.created_at)},"updated_at":${time(row.updated_at)},"frozen":${row.frozen === 1},` +
    `"disabled":${row.disabled === 1},"member_count":${row.member_count}`;
  if (row.created_by_id !== null) json += `,"created_by":${user(row.created_by_id)}`;
  if (row.deleted_at !== null) json += `,"deleted_at":${time(row.deleted_at)}`;
  if (row.truncated_at !== null) json += `,"truncated_at":${time(row.truncated_at)}`;
  if (row.truncated_by_id !== null) json += `,"truncated_by":${user(row.truncated_by_id)}`;
  if (row.last_message_at !== null) json += `,"last_message_at":${time(row.last_message_at)}`;
  return `${json}}`;
}

/*
 * v2: Stream's import lines, `{"type":"...","data":{...}}`, one entity a line, users referred to by id.
 * A user's `banned` and `deactivated_at` and a channel's `truncated_by` are chatport's additions, named
 * as the API names them: Stream's documented import format has no such fields, but without them a
 * migration loses bans, deactivations and who truncated a channel.
 */

export function userLineV2(row: UserRow): string {
  let data =
    `{${customPrefix(row.custom)}"id":${q(row.id)},"role":${q(row.role)},"teams":${row.teams},` +
    `"banned":${row.banned === 1},"created_at":${time(row.created_at)},"updated_at":${time(row.updated_at)}`;
  if (row.deleted_at !== null) data += `,"deleted_at":${time(row.deleted_at)}`;
  if (row.deactivated_at !== null) data += `,"deactivated_at":${time(row.deactivated_at)}`;
  return `{"type":"user","data":${data}}}\n`;
}

export function channelLineV2(row: ChannelRow): string {
  let data =
    `{${customPrefix(row.custom)}"id":${q(row.id)},"type":${q(row.type)},"cid":${q(row.cid)},` +
    `"created_at":${time(row.created_at)},"updated_at":${time(row.updated_at)},"frozen":${row.frozen === 1},` +
    `"disabled":${row.disabled === 1}`;
  if (row.created_by_id !== null) data += `,"created_by":${q(row.created_by_id)}`;
  if (row.deleted_at !== null) data += `,"deleted_at":${time(row.deleted_at)}`;
  if (row.truncated_at !== null) data += `,"truncated_at":${time(row.truncated_at)}`;
  if (row.truncated_by_id !== null) data += `,"truncated_by":${q(row.truncated_by_id)}`;
  return `{"type":"channel","data":${data}}}\n`;
}

export function memberLineV2(row: MemberRow, channel: ChannelRow): string {
  return (
    `{"type":"member","data":{"channel_type":${q(channel.type)},"channel_id":${q(channel.id)},` +
    `"user_id":${q(row.user_id)},"channel_role":${q(row.channel_role)},"created_at":${time(row.created_at)},` +
    `"updated_at":${time(row.updated_at)}}}\n`
  );
}

export function messageLineV2(row: MessageRow, channel: ChannelRow, clearDeletedText: boolean): string {
  const deleted = row.deleted_at !== null;
  const blank = deleted && clearDeletedText;
  let data =
    `{${customPrefix(row.custom)}"id":${q(row.id)},"channel_type":${q(channel.type)},"channel_id":${q(channel.id)},` +
    `"user":${q(row.user_id)},"text":${blank ? '""' : q(row.text)},"type":${deleted ? '"deleted"' : q(row.type)},` +
    `"attachments":${row.attachments},"mentioned_users":${row.mentioned_users},"pinned":${row.pinned === 1},` +
    `"silent":${row.silent === 1},"reply_count":${row.reply_count},"created_at":${time(row.created_at)},` +
    `"updated_at":${time(row.updated_at)}`;
  if (row.parent_id !== null)
    data += `,"parent_id":${q(row.parent_id)},"show_in_channel":${row.show_in_channel === 1}`;
  if (row.quoted_message_id !== null) data += `,"quoted_message_id":${q(row.quoted_message_id)}`;
  if (deleted) data += `,"deleted_at":${time(row.deleted_at!)}`;
  return `{"type":"message","data":${data}}}\n`;
}

export function reactionLineV2(row: ReactionRow): string {
  return (
    `{"type":"reaction","data":{${customPrefix(row.custom)}"message_id":${q(row.message_id)},"type":${q(row.type)},` +
    `"user_id":${q(row.user_id)},"score":${row.score},"created_at":${time(row.created_at)},` +
    `"updated_at":${time(row.updated_at)}}}\n`
  );
}
