import { Type } from 'typebox';

const Anything = Type.Record(Type.String(), Type.Unknown());

export const MessageParams = Type.Object({ id: Type.String({ minLength: 1 }) });

export const SendMessageBody = Type.Object(
  {
    message: Type.Record(Type.String(), Type.Unknown()),
    skip_push: Type.Optional(Type.Boolean()),
    skip_enrich_url: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
);

export const UpdateMessageBody = SendMessageBody;

export const PartialUpdateMessageBody = Type.Object(
  {
    set: Type.Optional(Anything),
    unset: Type.Optional(Type.Array(Type.String())),
    user_id: Type.Optional(Type.String()),
    user: Type.Optional(Anything),
  },
  { additionalProperties: true },
);

export const DeleteMessageQuery = Type.Object({
  hard: Type.Optional(Type.Boolean()),
  deleted_by: Type.Optional(Type.String()),
});

export const UndeleteMessageBody = Type.Object(
  { undeleted_by: Type.Optional(Type.String()) },
  { additionalProperties: true },
);

export const RepliesQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 300 })),
  id_lt: Type.Optional(Type.String()),
});
