import type { ChannelRow, MemberRow } from '../../database/database.types.js';
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
  inputOnly: ['created_by_id', 'truncated_by_id', 'members', 'config_overrides', 'own_capabilities'],
});

/**
 * Stream's ChannelMemberResponse; a v2 export line names its channel by `channel_type` and
 * `channel_id`, which the writer supplies. chatport keeps no custom data on members yet.
 */
export const memberShape = defineShape<MemberRow>({
  name: 'member',
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
    { name: 'custom', value: {}, forms: ['v2'] },
  ],
});
