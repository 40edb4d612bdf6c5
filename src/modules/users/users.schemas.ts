import { Type } from 'typebox';
import { closedObject, handledFields, refusedFields } from '../../lib/request-fields.js';

/** A user as upserted: any name chatport does not know is custom data, but Stream's own options it does not implement are refused. */
const UserInput = Type.Object(
  {
    id: Type.String(),
    ...handledFields('name', 'image', 'role', 'teams', 'custom', 'language', 'invisible', 'teams_role'),
    ...refusedFields('privacy_settings'),
  },
  { additionalProperties: true },
);

export const UpsertUsersBody = closedObject({
  users: Type.Record(Type.String(), UserInput),
});

export const PartialUpdateUsersBody = closedObject({
  users: Type.Array(
    closedObject({
      id: Type.String(),
      set: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      unset: Type.Optional(Type.Array(Type.String())),
    }),
    { minItems: 1, maxItems: 100 },
  ),
});

export const QueryUsersQuery = Type.Object({
  payload: Type.Optional(Type.String()),
});

export const UserIdParams = Type.Object({ id: Type.String({ minLength: 1 }) });

export const DeleteUserQuery = Type.Object({
  mark_messages_deleted: Type.Optional(Type.Boolean()),
  hard_delete: Type.Optional(Type.Boolean()),
  delete_conversation_channels: Type.Optional(Type.Boolean()),
});

export const DeletionMode = Type.Union([Type.Literal('soft'), Type.Literal('pruning'), Type.Literal('hard')]);
export const ConversationDeletionMode = Type.Union([Type.Literal('soft'), Type.Literal('hard')]);

export const DeleteUsersBody = closedObject({
  user_ids: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 100 }),
  user: Type.Optional(DeletionMode),
  messages: Type.Optional(DeletionMode),
  conversations: Type.Optional(ConversationDeletionMode),
  new_channel_owner_id: Type.Optional(Type.String()),
});

export const RestoreUsersBody = closedObject({
  user_ids: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 100 }),
});
