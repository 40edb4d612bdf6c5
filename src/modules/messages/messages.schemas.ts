import { Type } from 'typebox';
import { clientOnlyFields, closedObject, handledFields, refusedFields } from '../../lib/request-fields.js';

const Anything = Type.Record(Type.String(), Type.Unknown());

/**
 * A message as sent (Stream's MessageRequest): any name chatport does not know is custom data, but
 * Stream's own options it does not implement are refused. `html` is rendered from `text`.
 */
export const MessageInput = Type.Object(
  {
    ...handledFields(
      'id',
      'text',
      'type',
      'user',
      'user_id',
      'parent_id',
      'show_in_channel',
      'quoted_message_id',
      'attachments',
      'mentioned_users',
      'pinned',
      'silent',
      'custom',
      'mentioned_channel',
      'mentioned_here',
      'restricted_visibility',
    ),
    ...refusedFields(
      'html',
      'mml',
      'mentioned_roles',
      'mentioned_group_ids',
      'poll_id',
      'shared_location',
      'pin_expires',
      'pinned_at',
    ),
  },
  { additionalProperties: true },
);

export const MessageParams = Type.Object({ id: Type.String({ minLength: 1 }) });

export const SendMessageBody = closedObject({
  message: MessageInput,
  ...clientOnlyFields('skip_push', 'skip_enrich_url'),
});

export const UpdateMessageBody = SendMessageBody;

export const PartialUpdateMessageBody = closedObject({
  set: Type.Optional(Anything),
  unset: Type.Optional(Type.Array(Type.String())),
  user_id: Type.Optional(Type.String()),
  user: Type.Optional(Anything),
  ...clientOnlyFields('skip_push', 'skip_enrich_url'),
});

export const DeleteMessageQuery = Type.Object({
  hard: Type.Optional(Type.Boolean()),
  deleted_by: Type.Optional(Type.String()),
});

export const UndeleteMessageBody = closedObject({ undeleted_by: Type.Optional(Type.String()) });

export const RepliesQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 300 })),
  id_lt: Type.Optional(Type.String()),
});
