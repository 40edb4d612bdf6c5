/**
 * JSON for export files encoded in JavaScript, from the shapes' encoding plans (lib/shapes): the
 * entities an export writes one by one (users, channels, members; a user export's messages and
 * reactions). Stored JSON columns (custom data, attachments, reaction summaries) are spliced in as they
 * are, each user is serialised once by the caller, and only strings are escaped. Pure functions.
 */
import type {
  ChannelMuteRow,
  ChannelRow,
  MemberRow,
  MessageRow,
  ReactionRow,
  UserRow,
} from '../../database/database.types.js';
import { jsonEncoder } from '../../lib/shapes/shape-json.js';
import { channelMuteShape, channelShape, memberShape } from '../channels/channels.shape.js';
import { messageShape } from '../messages/messages.shape.js';
import { reactionShape } from '../reactions/reactions.shape.js';
import { missingUserShape, userShape } from '../users/users.shape.js';
import { LINE_SUFFIX, linePrefix } from './export-lines.js';

const userV1 = jsonEncoder(userShape, 'v1');
const missingUserV1 = jsonEncoder(missingUserShape, 'v1');
const reactionV1 = jsonEncoder(reactionShape, 'v1');
const channelV1 = jsonEncoder(channelShape, 'v1');
const memberV1 = jsonEncoder(memberShape, 'v1');
const messageV1 = {
  kept: jsonEncoder(messageShape, 'v1', { supplied: ['latest_reactions'], fixed: { own_reactions: [] } }),
  cleared: jsonEncoder(messageShape, 'v1', {
    supplied: ['latest_reactions'],
    fixed: { own_reactions: [] },
    options: { clearDeletedText: true },
  }),
};
// A v1 channel export's record is the channel's: its mutes leave the channel out.
const channelMuteV1 = {
  inRecord: jsonEncoder(channelMuteShape, 'v1'),
  withChannel: jsonEncoder(channelMuteShape, 'v1', { supplied: ['channel'] }),
};
const userLine = jsonEncoder(userShape, 'line', { prefix: linePrefix('user'), suffix: LINE_SUFFIX });
const channelLine = jsonEncoder(channelShape, 'line', { prefix: linePrefix('channel'), suffix: LINE_SUFFIX });
const memberLine = jsonEncoder(memberShape, 'line', {
  supplied: ['channel_type', 'channel_id'],
  prefix: linePrefix('member'),
  suffix: LINE_SUFFIX,
});
const channelMuteLine = jsonEncoder(channelMuteShape, 'line', {
  supplied: ['channel_type', 'channel_id'],
  prefix: linePrefix('channel_mute'),
  suffix: LINE_SUFFIX,
});

/** A user as the API shows it (UserResponse, v1). */
export function userJson(row: UserRow): string {
  return userV1(row);
}

/** A user whose record was hard-deleted, as messages still name them. */
export function missingUserJson(id: string): string {
  return missingUserV1({ id });
}

export function reactionJson(row: ReactionRow, user: string): string {
  return reactionV1(row, { user: () => user });
}

export interface MessagePieces {
  /** Serialised user by id (the caller caches them). */
  user(id: string): string;
  /** `[...]` of every reaction on the message, newest first. */
  reactions: string;
  clearDeletedText: boolean;
}

/**
 * A message as the API shows it (MessageResponse, v1), except that `latest_reactions` carries every
 * reaction, not the newest ten: an export is a complete record.
 */
export function messageJsonV1(row: MessageRow, pieces: MessagePieces): string {
  const encode = pieces.clearDeletedText ? messageV1.cleared : messageV1.kept;
  return encode(row, { user: pieces.user, values: { latest_reactions: pieces.reactions } });
}

export function memberJsonV1(row: MemberRow, user: string): string {
  return memberV1(row, { user: () => user });
}

export function channelJsonV1(row: ChannelRow, user: (id: string) => string): string {
  return channelV1(row, { user });
}

/**
 * A channel mute as the API shows it (ChannelMute, v1), its user's JSON given: with the muted
 * channel's JSON when given (a user export), without it in a channel export's record.
 */
export function channelMuteJsonV1(row: ChannelMuteRow, user: string, channel?: string): string {
  if (channel === undefined) return channelMuteV1.inRecord(row, { user: () => user });
  return channelMuteV1.withChannel(row, { user: () => user, values: { channel } });
}

/*
 * v2: Stream's import lines, `{"type":"...","data":{...}}`, one entity a line, users referred to by id.
 * A user's `banned` and `deactivated_at`, a channel's `truncated_by` and the `channel_mute` lines are
 * chatport's additions, named as the API names them: Stream's documented import format has no such
 * fields, but without them a migration loses bans, deactivations, who truncated a channel and who
 * muted it. Messages and reactions are encoded by the database (export-sql.ts).
 */

export function userLineV2(row: UserRow): string {
  return userLine(row);
}

export function channelLineV2(row: ChannelRow): string {
  return channelLine(row);
}

export function memberLineV2(row: MemberRow, channel: ChannelRow): string {
  return memberLine(row, {
    values: { channel_type: JSON.stringify(channel.type), channel_id: JSON.stringify(channel.id) },
  });
}

export function channelMuteLineV2(row: ChannelMuteRow, channel: ChannelRow): string {
  return channelMuteLine(row, {
    values: { channel_type: JSON.stringify(channel.type), channel_id: JSON.stringify(channel.id) },
  });
}
