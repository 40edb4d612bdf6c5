import type { MessageRow } from '../../database/database.types.js';
import { API_FORMS, defineShape } from '../../lib/shapes/shape.js';

/**
 * Stream's MessageResponse. A soft-deleted message shows type `deleted`, and its text is blanked in
 * exports asked to (`clearDeletedText`). The presenter supplies its reactions (the API shows the newest
 * ten, a v1 export all of them) and the quoted message (the API's alone).
 */
export const messageShape = defineShape<MessageRow>({
  name: 'message',
  custom: 'custom',
  fields: [
    { name: 'id', kind: 'string' },
    { name: 'channel_type', supplied: true, forms: ['line'] },
    { name: 'channel_id', supplied: true, forms: ['line'] },
    { name: 'cid', kind: 'string', forms: API_FORMS },
    {
      name: 'text',
      kind: 'string',
      replacedWhen: { column: 'deleted_at', by: '', option: 'clearDeletedText' },
    },
    {
      name: 'html',
      kind: 'string',
      replacedWhen: { column: 'deleted_at', by: '', option: 'clearDeletedText' },
      forms: API_FORMS,
    },
    { name: 'type', kind: 'string', replacedWhen: { column: 'deleted_at', by: 'deleted' } },
    { name: 'user', column: 'user_id', kind: 'user' },
    { name: 'attachments', kind: 'json' },
    { name: 'mentioned_users', kind: 'users' },
    { name: 'latest_reactions', supplied: true, forms: API_FORMS },
    { name: 'own_reactions', supplied: true, forms: API_FORMS },
    { name: 'reaction_counts', kind: 'json', forms: API_FORMS },
    { name: 'reaction_scores', kind: 'json', forms: API_FORMS },
    { name: 'reply_count', kind: 'integer' },
    { name: 'deleted_reply_count', value: 0, forms: API_FORMS },
    { name: 'pinned', kind: 'flag' },
    { name: 'silent', kind: 'flag' },
    { name: 'shadowed', value: false, forms: API_FORMS },
    { name: 'created_at', kind: 'time' },
    { name: 'updated_at', kind: 'time' },
    { name: 'parent_id', kind: 'string', optional: true },
    { name: 'show_in_channel', kind: 'flag', presentWhen: 'parent_id' },
    { name: 'quoted_message_id', kind: 'string', optional: true },
    { name: 'quoted_message', supplied: true, optional: true, forms: API_FORMS },
    { name: 'deleted_at', kind: 'time', optional: true },
  ],
  promoted: [
    { name: 'mentioned_channel', type: 'boolean', default: false },
    { name: 'mentioned_here', type: 'boolean', default: false },
    { name: 'restricted_visibility', type: 'strings', default: [] },
  ],
  inputOnly: ['user_id', 'reaction_groups', 'channel', 'member', 'i18n'],
});
