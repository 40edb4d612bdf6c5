import { Type } from 'typebox';

const UserInput = Type.Object({ id: Type.String() }, { additionalProperties: true });

export const UpsertUsersBody = Type.Object({
  users: Type.Record(Type.String(), UserInput),
});

export const PartialUpdateUsersBody = Type.Object({
  users: Type.Array(
    Type.Object({
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

export const DeleteUsersBody = Type.Object({
  user_ids: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 100 }),
  user: Type.Optional(DeletionMode),
  messages: Type.Optional(DeletionMode),
  conversations: Type.Optional(ConversationDeletionMode),
  new_channel_owner_id: Type.Optional(Type.String()),
});

export const RestoreUsersBody = Type.Object({
  user_ids: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 100 }),
});
