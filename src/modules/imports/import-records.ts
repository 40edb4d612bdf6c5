/**
 * One import line → one row to store. Lines are Stream's import format (what a v2 export writes):
 * `{"type":"user"|"channel"|"member"|"channel_mute"|"message"|"reaction","data":{...}}`. Known fields
 * go to columns, the rest is custom data, exactly as the API would store the same entity (a channel
 * mute has none: another field is refused); counters are not read (the importer recomputes them).
 * Pure apart from `now`, which stands in for a missing `created_at`.
 */
import type {
  ChannelMuteRow,
  ChannelRow,
  MemberRow,
  MessageRow,
  ReactionRow,
  UserRow,
} from '../../database/database.types.js';
import { inputError } from '../../lib/errors.js';
import { isPlainObject, type JsonObject } from '../../lib/json.js';
import { channelShape, memberShape } from '../channels/channels.shape.js';
import { V2_LINE_TYPES, type V2LineType } from '../exports/export-lines.js';
import { renderHtml } from '../messages/messages.models.js';
import { messageShape } from '../messages/messages.shape.js';
// Only modules without a database: the parser thread loads this file (import-parser-thread.ts).
import { REACTION_TYPE_PATTERN, reactionShape } from '../reactions/reactions.shape.js';
import { userFieldsFromInput } from '../users/users.models.js';
import {
  channelRef,
  customJson,
  flag,
  objectListJson,
  optionalId,
  optionalString,
  optionalTime,
  optionalUserRef,
  requiredId,
  requiredUserRef,
  userIdList,
} from './import-fields.js';
import { ImportLineError, lineErrorFrom } from './imports.errors.js';

/** The line types a file may hold: a v2 export's, but tombstones (only incremental exports have them). */
export type RecordKind = Exclude<V2LineType, 'tombstone'>;
export const RECORD_KINDS = V2_LINE_TYPES.filter((type): type is RecordKind => type !== 'tombstone');

interface RecordBase {
  line: number;
  /** The line had no `created_at`: it holds `now` until the stored row's time (if any) replaces it. */
  createdAtMissing: boolean;
  /** The line had no `updated_at`: it follows `created_at`. */
  updatedAtMissing: boolean;
}

export interface UserRecord extends RecordBase {
  kind: 'user';
  row: UserRow;
  /**
   * Columns the line does not name, which an existing row keeps: files written for Stream do not carry
   * them, and chatport's v2 lines leave out `deactivated_at` when it is not set (a null clears it).
   */
  keep: Array<'banned' | 'deactivated_at'>;
}
/** member_count and last_message_at are derived, so a channel line never writes them. */
export interface ChannelRecord extends RecordBase {
  kind: 'channel';
  row: Omit<ChannelRow, 'member_count' | 'last_message_at' | 'skip_truncate'>;
  /** Columns the line does not name, which an existing row keeps (as a user's `deactivated_at`). */
  keep: Array<'truncated_by_id'>;
}
export interface MemberRecord extends RecordBase {
  kind: 'member';
  row: Omit<MemberRow, 'truncated_at'>;
}
export interface ChannelMuteRecord extends RecordBase {
  kind: 'channel_mute';
  row: ChannelMuteRow;
}
export interface MessageRecord extends RecordBase {
  kind: 'message';
  row: MessageRow;
  /** Parsed `mentioned_users`, checked as references. */
  mentionedUsers: string[];
  /** A `deleted` line without `deleted_at`: deleted when last updated, so it follows `updated_at`. */
  deletedAtFollowsUpdate: boolean;
}
export interface ReactionRecord extends RecordBase {
  kind: 'reaction';
  row: ReactionRow;
}

export type ImportRecord =
  UserRecord | ChannelRecord | MemberRecord | ChannelMuteRecord | MessageRecord | ReactionRecord;

/** Message types a file may carry. `deleted` is how exports show a soft-deleted message. */
const MESSAGE_TYPES = new Set(['regular', 'system', 'reply', 'deleted']);

interface Times {
  createdAt: number;
  updatedAt: number;
  createdAtMissing: boolean;
  updatedAtMissing: boolean;
}

/** The columns, each named by the line keys that can carry it, for which the line has none of those keys. */
function notCarried<C extends string>(data: JsonObject, columns: Record<C, readonly string[]>): C[] {
  const absent: C[] = [];
  for (const column in columns)
    if (columns[column].every((key) => data[key] === undefined)) absent.push(column);
  return absent;
}

function timesOf(data: JsonObject, now: () => number): Times {
  const created = optionalTime(data, 'created_at');
  const updated = optionalTime(data, 'updated_at');
  const createdAt = created ?? now();
  return {
    createdAt,
    updatedAt: updated ?? createdAt,
    createdAtMissing: created === undefined,
    updatedAtMissing: updated === undefined,
  };
}

function userRecord(data: JsonObject, appId: number, now: () => number, line: number): UserRecord {
  const { id, role, teams, custom } = userFieldsFromInput(data, 'data');
  const times = timesOf(data, now);
  return {
    kind: 'user',
    line,
    row: {
      app_id: appId,
      id,
      role,
      custom: JSON.stringify(custom),
      teams: JSON.stringify(teams),
      banned: flag(data, 'banned'),
      created_at: times.createdAt,
      updated_at: times.updatedAt,
      deleted_at: optionalTime(data, 'deleted_at') ?? null,
      deactivated_at: optionalTime(data, 'deactivated_at') ?? null,
    },
    keep: notCarried(data, { banned: ['banned'], deactivated_at: ['deactivated_at'] }),
    createdAtMissing: times.createdAtMissing,
    updatedAtMissing: times.updatedAtMissing,
  };
}

function channelRecord(data: JsonObject, appId: number, now: () => number, line: number): ChannelRecord {
  const channel = channelRef(data, 'type', 'id');
  const times = timesOf(data, now);
  return {
    kind: 'channel',
    line,
    row: {
      app_id: appId,
      cid: channel.cid,
      type: channel.type,
      id: channel.id,
      created_by_id: optionalUserRef(data, 'created_by', 'created_by_id') ?? null,
      custom: customJson(data, channelShape.known),
      frozen: flag(data, 'frozen'),
      disabled: flag(data, 'disabled'),
      created_at: times.createdAt,
      updated_at: times.updatedAt,
      deleted_at: optionalTime(data, 'deleted_at') ?? null,
      truncated_at: optionalTime(data, 'truncated_at') ?? null,
      truncated_by_id: optionalUserRef(data, 'truncated_by', 'truncated_by_id') ?? null,
    },
    keep: notCarried(data, { truncated_by_id: ['truncated_by', 'truncated_by_id'] }),
    createdAtMissing: times.createdAtMissing,
    updatedAtMissing: times.updatedAtMissing,
  };
}

function memberRecord(data: JsonObject, appId: number, now: () => number, line: number): MemberRecord {
  const channel = channelRef(data, 'channel_type', 'channel_id');
  const role = optionalString(data, 'channel_role');
  const times = timesOf(data, now);
  return {
    kind: 'member',
    line,
    row: {
      app_id: appId,
      cid: channel.cid,
      user_id: requiredUserRef(data, 'user_id', 'user'),
      // Older import files mark moderators with a flag instead of a role.
      channel_role: role ?? (data.is_moderator === true ? 'channel_moderator' : 'channel_member'),
      created_at: times.createdAt,
      updated_at: times.updatedAt,
      custom: customJson(data, memberShape.known),
      invited: flag(data, 'invited'),
      invite_accepted_at: optionalTime(data, 'invite_accepted_at') ?? null,
      invite_rejected_at: optionalTime(data, 'invite_rejected_at') ?? null,
      pinned_at: optionalTime(data, 'pinned_at') ?? null,
      archived_at: optionalTime(data, 'archived_at') ?? null,
      hidden: flag(data, 'hidden'),
      hide_messages_before: optionalTime(data, 'hide_messages_before') ?? null,
    },
    createdAtMissing: times.createdAtMissing,
    updatedAtMissing: times.updatedAtMissing,
  };
}

/** A channel mute line's fields (chatport's addition: its v2 exports write them); no custom data. */
const CHANNEL_MUTE_FIELDS = new Set([
  'user_id',
  'user',
  'channel_type',
  'channel_id',
  'cid',
  'created_at',
  'updated_at',
  'expires',
]);

function channelMuteRecord(
  data: JsonObject,
  appId: number,
  now: () => number,
  line: number,
): ChannelMuteRecord {
  for (const key in data) {
    if (!CHANNEL_MUTE_FIELDS.has(key))
      throw inputError(`data.${key}`, 'is not a field of a channel mute, which has no custom data');
  }
  const channel = channelRef(data, 'channel_type', 'channel_id');
  const times = timesOf(data, now);
  return {
    kind: 'channel_mute',
    line,
    row: {
      app_id: appId,
      user_id: requiredUserRef(data, 'user_id', 'user'),
      cid: channel.cid,
      created_at: times.createdAt,
      updated_at: times.updatedAt,
      expires_at: optionalTime(data, 'expires') ?? null,
    },
    createdAtMissing: times.createdAtMissing,
    updatedAtMissing: times.updatedAtMissing,
  };
}

function messageRecord(data: JsonObject, appId: number, now: () => number, line: number): MessageRecord {
  const id = requiredId(data, 'id');
  const channel = channelRef(data, 'channel_type', 'channel_id');
  const userId = requiredUserRef(data, 'user', 'user_id');
  const parentId = optionalId(data, 'parent_id');
  const type = optionalString(data, 'type') ?? 'regular';
  if (!MESSAGE_TYPES.has(type)) throw inputError('data.type', 'must be regular, system, reply or deleted');
  if (type === 'reply' && parentId === undefined)
    throw inputError('data.parent_id', 'is required for a reply');
  if (parentId === id) throw inputError('data.parent_id', 'cannot be the message itself');
  const text = optionalString(data, 'text') ?? '';
  const times = timesOf(data, now);
  // A soft-deleted message keeps its own type in storage; exports show it as `deleted`.
  const givenDeletedAt = optionalTime(data, 'deleted_at');
  const deletedAtFollowsUpdate = givenDeletedAt === undefined && type === 'deleted';
  const storedType = parentId !== undefined ? 'reply' : type === 'deleted' ? 'regular' : type;
  const mentionedUsers = userIdList(data, 'mentioned_users');
  return {
    kind: 'message',
    line,
    row: {
      app_id: appId,
      id,
      cid: channel.cid,
      user_id: userId,
      type: storedType,
      text,
      html: optionalString(data, 'html') ?? renderHtml(text),
      parent_id: parentId ?? null,
      show_in_channel: parentId !== undefined ? flag(data, 'show_in_channel') : 0,
      quoted_message_id: optionalId(data, 'quoted_message_id') ?? null,
      attachments: objectListJson(data, 'attachments'),
      mentioned_users: mentionedUsers.length === 0 ? '[]' : JSON.stringify(mentionedUsers),
      custom: customJson(data, messageShape.known),
      reply_count: 0,
      reaction_counts: '{}',
      reaction_scores: '{}',
      pinned: flag(data, 'pinned'),
      silent: flag(data, 'silent'),
      created_at: times.createdAt,
      updated_at: times.updatedAt,
      deleted_at: deletedAtFollowsUpdate ? times.updatedAt : (givenDeletedAt ?? null),
    },
    mentionedUsers,
    deletedAtFollowsUpdate,
    createdAtMissing: times.createdAtMissing,
    updatedAtMissing: times.updatedAtMissing,
  };
}

function reactionRecord(data: JsonObject, appId: number, now: () => number, line: number): ReactionRecord {
  const type = data.type;
  if (typeof type !== 'string' || !REACTION_TYPE_PATTERN.test(type)) {
    throw inputError('data.type', 'must be 1 to 64 letters, digits or _ - . : + @');
  }
  const score = data.score ?? 1;
  if (typeof score !== 'number' || !Number.isInteger(score) || score < 0) {
    throw inputError('data.score', 'must be a non-negative integer');
  }
  const times = timesOf(data, now);
  return {
    kind: 'reaction',
    line,
    row: {
      app_id: appId,
      message_id: requiredId(data, 'message_id'),
      user_id: requiredUserRef(data, 'user_id', 'user'),
      type,
      score,
      custom: customJson(data, reactionShape.known),
      created_at: times.createdAt,
      updated_at: times.updatedAt,
    },
    createdAtMissing: times.createdAtMissing,
    updatedAtMissing: times.updatedAtMissing,
  };
}

const builders = {
  user: userRecord,
  channel: channelRecord,
  member: memberRecord,
  channel_mute: channelMuteRecord,
  message: messageRecord,
  reaction: reactionRecord,
} satisfies Record<RecordKind, unknown>;

/** Reads one non-blank line into the row it stores, or throws an ImportLineError naming `line`. */
export function parseImportLine(text: string, line: number, appId: number, now: () => number): ImportRecord {
  let envelope: unknown;
  try {
    envelope = JSON.parse(text);
  } catch (error) {
    throw new ImportLineError(line, 'line', `is not valid JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(envelope)) throw new ImportLineError(line, 'line', 'must be a JSON object');
  const kind = envelope.type;
  if (typeof kind !== 'string' || !Object.hasOwn(builders, kind)) {
    throw new ImportLineError(line, 'type', `must be one of ${RECORD_KINDS.join(', ')}`);
  }
  const data = envelope.data;
  if (!isPlainObject(data)) throw new ImportLineError(line, 'data', 'must be an object');
  try {
    return builders[kind as RecordKind](data, appId, now, line);
  } catch (error) {
    throw lineErrorFrom(error, line);
  }
}
