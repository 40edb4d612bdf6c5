import { Type } from 'typebox';

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
const UserIds = Type.Array(Type.String());

export const ChannelParams = Type.Object({
  type: Type.String({ minLength: 1 }),
  id: Type.String({ minLength: 1 }),
});
export const ChannelTypeParams = Type.Object({ type: Type.String({ minLength: 1 }) });

const Pagination = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 300 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
    id_lt: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

export const GetOrCreateChannelBody = Type.Object(
  {
    data: Type.Optional(
      Type.Object(
        { members: Type.Optional(Type.Array(MemberEntry)), invites: Type.Optional(Type.Array(MemberEntry)) },
        { additionalProperties: true },
      ),
    ),
    messages: Type.Optional(Pagination),
    members: Type.Optional(Pagination),
    state: Type.Optional(Type.Boolean()),
    watch: Type.Optional(Type.Boolean()),
    presence: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
);

export const QueryChannelsBody = Type.Object(
  {
    filter_conditions: Type.Optional(Anything),
    sort: Type.Optional(Type.Union([Type.Array(Anything), Anything])),
    limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 30 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    message_limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 300 })),
    member_limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    state: Type.Optional(Type.Boolean()),
    user_id: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: true },
);

export const UpdateChannelBody = Type.Object(
  {
    data: Type.Optional(Anything),
    add_members: Type.Optional(Type.Array(MemberEntry)),
    remove_members: Type.Optional(UserIds),
    invites: Type.Optional(Type.Array(MemberEntry)),
    add_moderators: Type.Optional(UserIds),
    demote_moderators: Type.Optional(UserIds),
    assign_roles: Type.Optional(
      Type.Array(Type.Object({ user_id: Type.String(), channel_role: Type.String() })),
    ),
    accept_invite: Type.Optional(Type.Boolean()),
    reject_invite: Type.Optional(Type.Boolean()),
    user_id: Type.Optional(Type.String()),
    hide_history: Type.Optional(Type.Boolean()),
    hide_history_before: Type.Optional(Type.String()),
    message: Type.Optional(Anything),
  },
  { additionalProperties: true },
);

export const PartialUpdateChannelBody = Type.Object(
  {
    set: Type.Optional(Anything),
    unset: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: true },
);

export const TruncateChannelBody = Type.Object(
  {
    truncated_at: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    hard_delete: Type.Optional(Type.Boolean()),
    skip_push: Type.Optional(Type.Boolean()),
    user_id: Type.Optional(Type.String()),
    message: Type.Optional(Anything),
  },
  { additionalProperties: true },
);

export const DeleteChannelQuery = Type.Object({ hard_delete: Type.Optional(Type.Boolean()) });

export const DeleteChannelsBody = Type.Object({
  cids: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 100 }),
  hard_delete: Type.Optional(Type.Boolean()),
});

/** `PATCH /channels/{type}/{id}/member?user_id=` (the SDK's `updateMemberPartial`). */
export const MemberQuery = Type.Object({ user_id: Type.Optional(Type.String({ minLength: 1 })) });
export const MemberParams = Type.Object({
  type: Type.String({ minLength: 1 }),
  id: Type.String({ minLength: 1 }),
  user_id: Type.String({ minLength: 1 }),
});
export const UpdateMemberPartialBody = Type.Object({
  set: Type.Optional(Anything),
  unset: Type.Optional(Type.Array(Type.String())),
});

// The SDK sends `user_id: null` when it is not given.
const OptionalUserId = Type.Optional(Type.Union([Type.String(), Type.Null()]));
export const HideChannelBody = Type.Object({
  user_id: OptionalUserId,
  clear_history: Type.Optional(Type.Boolean()),
});
export const ShowChannelBody = Type.Object({ user_id: OptionalUserId });

/** `GET /members?payload=<JSON>` (the SDK's `channel.queryMembers`). */
export const QueryMembersQuery = Type.Object({ payload: Type.Optional(Type.String()) });

/** `POST /moderation/mute/channel` and `/unmute/channel` (the SDK's `channel.mute` / `unmute`). */
export const MuteChannelBody = Type.Object({
  channel_cid: Type.Optional(Type.String({ minLength: 1 })),
  channel_cids: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 25 })),
  user_id: Type.Optional(Type.String({ minLength: 1 })),
  /** Milliseconds, as Stream's spec has it. */
  expiration: Type.Optional(Type.Integer({ minimum: 1, maximum: 3_153_600_000_000 })),
});
export const UnmuteChannelBody = Type.Object({
  channel_cid: Type.Optional(Type.String({ minLength: 1 })),
  channel_cids: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 25 })),
  user_id: Type.Optional(Type.String({ minLength: 1 })),
});
