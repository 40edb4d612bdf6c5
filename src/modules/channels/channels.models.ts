import type { ChannelRow, MemberRow, UserRow } from '../../database/database.types.js';
import { parseObject, type JsonObject } from '../../lib/json.js';
import { formatMicros } from '../../lib/time.js';
import { missingUserResponse, toUserResponse } from '../users/users.models.js';

/** Fields of channel data that are not custom. */
export const KNOWN_CHANNEL_FIELDS = new Set([
  'id',
  'type',
  'cid',
  'created_by',
  'created_by_id',
  'members',
  'member_count',
  'created_at',
  'updated_at',
  'deleted_at',
  'truncated_at',
  'truncated_by',
  'truncated_by_id',
  'last_message_at',
  'frozen',
  'disabled',
  'config',
  'config_overrides',
  'custom',
  'own_capabilities',
]);

/** The channel type's configuration, as Stream reports it; chatport enforces none of it yet. */
function channelConfig(type: string): JsonObject {
  return {
    name: type,
    typing_events: true,
    read_events: true,
    connect_events: true,
    search: true,
    reactions: true,
    replies: true,
    quotes: true,
    mutes: true,
    uploads: true,
    url_enrichment: false,
    custom_events: true,
    push_notifications: true,
    message_retention: 'infinite',
    max_message_length: 5000,
    automod: 'disabled',
    commands: [],
  };
}

/** Stream's ChannelResponse: custom data flattened beside the known fields. */
export function toChannelResponse(row: ChannelRow, users: Map<string, UserRow>): JsonObject {
  const response: JsonObject = {
    ...parseObject(row.custom),
    id: row.id,
    type: row.type,
    cid: row.cid,
    created_at: formatMicros(row.created_at),
    updated_at: formatMicros(row.updated_at),
    frozen: row.frozen === 1,
    disabled: row.disabled === 1,
    member_count: row.member_count,
    config: channelConfig(row.type),
  };
  if (row.created_by_id !== null) {
    const creator = users.get(row.created_by_id);
    response.created_by = creator ? toUserResponse(creator) : missingUserResponse(row.created_by_id);
  }
  if (row.deleted_at !== null) response.deleted_at = formatMicros(row.deleted_at);
  if (row.truncated_at !== null) response.truncated_at = formatMicros(row.truncated_at);
  if (row.truncated_by_id !== null) {
    const truncatedBy = users.get(row.truncated_by_id);
    response.truncated_by = truncatedBy
      ? toUserResponse(truncatedBy)
      : missingUserResponse(row.truncated_by_id);
  }
  if (row.last_message_at !== null) response.last_message_at = formatMicros(row.last_message_at);
  return response;
}

/** Stream's ChannelMemberResponse. */
export function toMemberResponse(row: MemberRow, user: UserRow | undefined): JsonObject {
  return {
    user_id: row.user_id,
    user: user ? toUserResponse(user) : missingUserResponse(row.user_id),
    channel_role: row.channel_role,
    role:
      row.channel_role === 'channel_moderator'
        ? 'moderator'
        : row.channel_role === 'owner'
          ? 'owner'
          : 'member',
    created_at: formatMicros(row.created_at),
    updated_at: formatMicros(row.updated_at),
    banned: false,
    shadow_banned: false,
    notifications_muted: false,
  };
}
