import { Type } from 'typebox';
import { clientOnlyFields, closedObject, refusedFields } from '../../lib/request-fields.js';
import { MessageInput } from '../messages/messages.schemas.js';

const Anything = Type.Record(Type.String(), Type.Unknown());
/** A member as requests name it: an id, or a ChannelMemberRequest whose other fields are custom data. */
const MemberEntry = Type.Union([
  Type.String(),
  Type.Object(
    {
      user_id: Type.Optional(Type.String()),
      user: Type.Optional(Type.Object({ id: Type.String() }, { additionalProperties: true })),
      channel_role: Type.Optional(Type.String()),
      custom: Type.Optional(Anything),
    },
    { additionalProperties: true },
  ),
]);
const UserReference = Type.Object({ id: Type.String() }, { additionalProperties: true });
const UserIds = Type.Array(Type.String());
/** Role changes name members one by one: at most 100 a request, as Stream takes members. */
const RoleUserIds = Type.Array(Type.String(), { maxItems: 100 });

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
  ...refusedFields('config_overrides', 'truncated_by_id'),
};

const NewChannelData = Type.Object(
  {
    ...channelDataFields,
    members: Type.Optional(Type.Array(MemberEntry)),
    invites: Type.Optional(Type.Array(MemberEntry)),
  },
  { additionalProperties: true },
);

/** On update the creator stays who it was, and members change through `add_members`/`remove_members`. */
const ChannelUpdateData = Type.Object(
  { ...channelDataFields, ...refusedFields('members', 'invites', 'created_by', 'created_by_id') },
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
  remove_members: Type.Optional(UserIds),
  invites: Type.Optional(Type.Array(MemberEntry)),
  add_moderators: Type.Optional(RoleUserIds),
  demote_moderators: Type.Optional(RoleUserIds),
  assign_roles: Type.Optional(
    // Presence and role names are checked by the use case (roleAssignmentsFromInput), so a probe of an
    // unknown field is refused by its name rather than for a missing user_id.
    Type.Array(
      closedObject({ user_id: Type.Optional(Type.String()), channel_role: Type.Optional(Type.String()) }),
      { maxItems: 100 },
    ),
  ),
  accept_invite: Type.Optional(Type.Boolean()),
  reject_invite: Type.Optional(Type.Boolean()),
  user_id: Type.Optional(Type.String()),
  hide_history: Type.Optional(Type.Boolean()),
  hide_history_before: Type.Optional(Type.String()),
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

/** `PATCH /channels/{type}/{id}/member?user_id=` (the SDK's `updateMemberPartial`). */
export const MemberQuery = Type.Object({ user_id: Type.Optional(Type.String({ minLength: 1 })) });
export const MemberParams = Type.Object({
  type: Type.String({ minLength: 1 }),
  id: Type.String({ minLength: 1 }),
  user_id: Type.String({ minLength: 1 }),
});
export const UpdateMemberPartialBody = closedObject({
  set: Type.Optional(Anything),
  unset: Type.Optional(Type.Array(Type.String())),
});

// The SDK sends `user_id: null` when it is not given.
const OptionalUserId = Type.Optional(Type.Union([Type.String(), Type.Null()]));
export const HideChannelBody = closedObject({
  user_id: OptionalUserId,
  clear_history: Type.Optional(Type.Boolean()),
});
export const ShowChannelBody = closedObject({ user_id: OptionalUserId });

/** `GET /members?payload=<JSON>` (the SDK's `channel.queryMembers`). */
export const QueryMembersQuery = Type.Object({ payload: Type.Optional(Type.String()) });

/** `POST /moderation/mute/channel` and `/unmute/channel` (the SDK's `channel.mute` / `unmute`). */
export const MuteChannelBody = closedObject({
  channel_cid: Type.Optional(Type.String({ minLength: 1 })),
  channel_cids: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 25 })),
  user_id: Type.Optional(Type.String({ minLength: 1 })),
  /** Milliseconds, as Stream's spec has it. */
  expiration: Type.Optional(Type.Integer({ minimum: 1, maximum: 3_153_600_000_000 })),
});
export const UnmuteChannelBody = closedObject({
  channel_cid: Type.Optional(Type.String({ minLength: 1 })),
  channel_cids: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 25 })),
  user_id: Type.Optional(Type.String({ minLength: 1 })),
});
