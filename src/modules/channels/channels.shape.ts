import type { ChannelMuteRow, ChannelRow, MemberRow } from '../../database/database.types.js';
import { API_FORMS, defineShape } from '../../lib/shapes/shape.js';

/**
 * Stream's ChannelResponse. A channel's `name` is custom data in both generations, as Stream has it;
 * `config` is the API's alone (the presenter supplies it), exports carry none.
 */
export const channelShape = defineShape<ChannelRow>({
  name: 'channel',
  custom: 'custom',
  fields: [
    { name: 'id', kind: 'string' },
    { name: 'type', kind: 'string' },
    { name: 'cid', kind: 'string' },
    { name: 'created_at', kind: 'time' },
    { name: 'updated_at', kind: 'time' },
    { name: 'frozen', kind: 'flag' },
    { name: 'disabled', kind: 'flag' },
    { name: 'member_count', kind: 'integer', forms: API_FORMS },
    { name: 'config', supplied: true, optional: true, forms: API_FORMS },
    { name: 'created_by', column: 'created_by_id', kind: 'user', optional: true },
    { name: 'deleted_at', kind: 'time', optional: true },
    { name: 'truncated_at', kind: 'time', optional: true },
    { name: 'truncated_by', column: 'truncated_by_id', kind: 'user', optional: true },
    { name: 'last_message_at', kind: 'time', optional: true, forms: API_FORMS },
  ],
  promoted: [
    { name: 'team', type: 'string' },
    { name: 'filter_tags', type: 'strings' },
    { name: 'auto_translation_enabled', type: 'boolean' },
    { name: 'auto_translation_language', type: 'string' },
  ],
  inputOnly: [
    'created_by_id',
    'truncated_by_id',
    'members',
    'invites',
    'config_overrides',
    'own_capabilities',
  ],
});

/**
 * Stream's ChannelMemberResponse; a v2 export line names its channel by `channel_type` and
 * `channel_id`, which the writer supplies. `banned` is always false: chatport keeps no channel bans.
 * `hidden` and `hide_messages_before` are chatport's additions, so that exports keep a member's
 * hidden channel and cleared history.
 */
export const memberShape = defineShape<MemberRow>({
  name: 'member',
  custom: 'custom',
  fields: [
    { name: 'channel_type', supplied: true, forms: ['line'] },
    { name: 'channel_id', supplied: true, forms: ['line'] },
    { name: 'user_id', kind: 'string' },
    { name: 'user', column: 'user_id', kind: 'user', forms: API_FORMS },
    { name: 'channel_role', kind: 'string' },
    {
      name: 'role',
      column: 'channel_role',
      kind: 'string',
      mapped: { cases: { channel_moderator: 'moderator', owner: 'owner' }, otherwise: 'member' },
      forms: API_FORMS,
    },
    { name: 'created_at', kind: 'time' },
    { name: 'updated_at', kind: 'time' },
    { name: 'banned', value: false, forms: API_FORMS },
    { name: 'shadow_banned', value: false, forms: API_FORMS },
    { name: 'notifications_muted', value: false, forms: API_FORMS },
    { name: 'invited', kind: 'flag' },
    { name: 'invite_accepted_at', kind: 'time', optional: true },
    { name: 'invite_rejected_at', kind: 'time', optional: true },
    { name: 'pinned_at', kind: 'time', optional: true },
    { name: 'archived_at', kind: 'time', optional: true },
    { name: 'hidden', kind: 'flag' },
    { name: 'hide_messages_before', kind: 'time', optional: true },
  ],
  // Input names: a member request's `user`, the SDK's `pinned`/`archived` partial updates, older
  // import files' `is_moderator`.
  inputOnly: ['is_moderator', 'pinned', 'archived', 'status', 'deleted_at', 'ban_expires'],
});

/** A new member's columns beyond its keys, role and times: no custom data, invitation or own state. */
export const NEW_MEMBER = {
  custom: '{}',
  invited: 0,
  invite_accepted_at: null,
  invite_rejected_at: null,
  pinned_at: null,
  archived_at: null,
  hidden: 0,
  hide_messages_before: null,
} as const satisfies Partial<MemberRow>;

/**
 * Stream's ChannelMute: the muted channel is supplied (the API and a user export embed it, an export
 * line names it; a v1 channel export's record, which is the channel's, leaves it out).
 */
export const channelMuteShape = defineShape<ChannelMuteRow>({
  name: 'channel mute',
  fields: [
    { name: 'user_id', kind: 'string', forms: ['line'] },
    { name: 'channel_type', supplied: true, forms: ['line'] },
    { name: 'channel_id', supplied: true, forms: ['line'] },
    { name: 'user', column: 'user_id', kind: 'user', forms: API_FORMS },
    { name: 'channel', supplied: true, optional: true, forms: API_FORMS },
    { name: 'created_at', kind: 'time' },
    { name: 'updated_at', kind: 'time' },
    { name: 'expires', column: 'expires_at', kind: 'time', optional: true },
  ],
});
