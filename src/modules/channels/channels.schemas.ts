import { Type } from 'typebox';
import { clientOnlyFields, closedObject, refusedFields } from '../../lib/request-fields.js';
import { MessageInput } from '../messages/messages.schemas.js';

const Anything = Type.Record(Type.String(), Type.Unknown());
/** A member by id, or as `{user_id, channel_role}` (`user` names the same user: its id is read). */
const MemberEntry = Type.Union([
  Type.String(),
  Type.Object(
    {
      user_id: Type.String(),
      channel_role: Type.Optional(Type.String()),
      user: Type.Optional(Type.Unknown()),
    },
    { additionalProperties: false },
  ),
]);
const UserReference = Type.Object({ id: Type.String() }, { additionalProperties: true });

export const ChannelParams = Type.Object({
  type: Type.String({ minLength: 1 }),
  id: Type.String({ minLength: 1 }),
});
export const ChannelTypeParams = Type.Object({ type: Type.String({ minLength: 1 }) });

/**
 * A channel's data (Stream's ChannelInput): its known fields, Stream's options chatport does not
 * implement (refused), and custom data, any other name. `team`, `filter_tags` and the translation
 * settings are kept with the custom data (the v2 form shows them at the top level).
 */
const channelDataFields = {
  created_by_id: Type.Optional(Type.String()),
  created_by: Type.Optional(UserReference),
  frozen: Type.Optional(Type.Boolean()),
  disabled: Type.Optional(Type.Boolean()),
  custom: Type.Optional(Anything),
  team: Type.Optional(Type.Unknown()),
  filter_tags: Type.Optional(Type.Unknown()),
  auto_translation_enabled: Type.Optional(Type.Unknown()),
  auto_translation_language: Type.Optional(Type.Unknown()),
  ...refusedFields('config_overrides', 'invites', 'truncated_by_id'),
};

const NewChannelData = Type.Object(
  { ...channelDataFields, members: Type.Optional(Type.Array(MemberEntry)) },
  { additionalProperties: true },
);

/** On update the creator stays who it was, and members change through `add_members`/`remove_members`. */
const ChannelUpdateData = Type.Object(
  { ...channelDataFields, ...refusedFields('members', 'created_by', 'created_by_id') },
  { additionalProperties: true },
);

const MessagePagination = closedObject({
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 300 })),
  id_lt: Type.Optional(Type.String()),
});

const MemberPagination = closedObject({
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 300 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
});

export const GetOrCreateChannelBody = closedObject({
  data: Type.Optional(NewChannelData),
  messages: Type.Optional(MessagePagination),
  members: Type.Optional(MemberPagination),
  ...clientOnlyFields('state', 'watch', 'presence', 'watchers', 'thread_unread_counts'),
});

export const QueryChannelsBody = closedObject({
  filter_conditions: Type.Optional(Anything),
  sort: Type.Optional(
    Type.Union([
      Type.Array(closedObject({ field: Type.String(), direction: Type.Optional(Type.Integer()) })),
      Anything,
    ]),
  ),
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 30 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  message_limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 300 })),
  member_limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  user_id: Type.Optional(Type.String({ minLength: 1 })),
  user: Type.Optional(UserReference),
  ...clientOnlyFields('state', 'watch', 'presence'),
});

export const UpdateChannelBody = closedObject({
  data: Type.Optional(ChannelUpdateData),
  add_members: Type.Optional(Type.Array(MemberEntry)),
  remove_members: Type.Optional(Type.Array(Type.String())),
  message: Type.Optional(MessageInput),
  ...clientOnlyFields('skip_push'),
});

export const PartialUpdateChannelBody = closedObject({
  set: Type.Optional(Anything),
  unset: Type.Optional(Type.Array(Type.String())),
});

export const TruncateChannelBody = closedObject({
  truncated_at: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  hard_delete: Type.Optional(Type.Boolean()),
  user_id: Type.Optional(Type.String()),
  user: Type.Optional(UserReference),
  member_ids: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 1000 })),
  message: Type.Optional(MessageInput),
  ...clientOnlyFields('skip_push'),
});

export const DeleteChannelQuery = Type.Object({
  hard_delete: Type.Optional(Type.Boolean()),
  skip_truncate: Type.Optional(Type.Boolean()),
});

export const DeleteChannelsBody = closedObject({
  cids: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 100 }),
  hard_delete: Type.Optional(Type.Boolean()),
  skip_truncate: Type.Optional(Type.Boolean()),
});
