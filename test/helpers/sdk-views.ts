/**
 * One neutral view of what either SDK answers: v1 objects (custom data flattened, told apart by the
 * fields the node SDK's v2 types declare) and v2 objects (custom data under `custom`) read alike, so a
 * scenario asserts the same things of both.
 */
import { declaredFields } from './sdk-types.js';

type Json = Record<string, unknown>;

export interface UserView {
  id: string;
  role: string;
  name: string | undefined;
  custom: Json;
  deletedAt: string | undefined;
}
export interface ChannelView {
  cid: string;
  custom: Json;
  createdBy: string | undefined;
  truncatedAt: string | undefined;
  deletedAt: string | undefined;
}
export interface ReactionView {
  messageId: string;
  userId: string;
  type: string;
  score: number;
  custom: Json;
}
export interface MessageView {
  id: string;
  text: string;
  type: string;
  userId: string;
  parentId: string | undefined;
  replyCount: number;
  custom: Json;
  latestReactions: ReactionView[];
  deletedAt: string | undefined;
}
export interface MemberView {
  userId: string;
  channelRole: string;
  custom: Json;
  invited: boolean;
  inviteAcceptedAt: string | undefined;
  inviteRejectedAt: string | undefined;
  pinnedAt: string | undefined;
  archivedAt: string | undefined;
}
export interface StateView {
  channel: ChannelView;
  members: Array<{ userId: string; channelRole: string }>;
  messages: MessageView[];
}
export interface TaskView {
  status: string;
  url: string | undefined;
}

/**
 * Member fields chatport adds to Stream's ChannelMemberResponse (data-model.md): not custom data,
 * though the SDK's type does not declare them.
 */
const CHATPORT_MEMBER_FIELDS = new Set(['hidden', 'hide_messages_before']);

const time = (value: unknown) =>
  value === undefined ? undefined : new Date(value as string | Date).toISOString();

/** Splits a flattened (v1) object into the fields the SDK's v2 type declares and the custom rest. */
function customOfFlat(object: Json, interfaceName: string): Json {
  const declared = declaredFields(interfaceName);
  return Object.fromEntries(Object.entries(object).filter(([key]) => !declared.has(key)));
}

/** Views of v1 objects (custom flattened) or v2 objects (custom nested). */
export function viewsOf(nested: boolean) {
  const custom = (object: Json, interfaceName: string) =>
    nested ? (object.custom as Json) : customOfFlat(object, interfaceName);
  const user = (u: Json): UserView => ({
    id: u.id as string,
    role: u.role as string,
    name: u.name as string | undefined,
    // Users are viewed from upserts and queries, which answer FullUserResponse (`channel_mutes`, ...).
    custom: custom(u, 'FullUserResponse'),
    deletedAt: time(u.deleted_at),
  });
  const channel = (c: Json): ChannelView => ({
    cid: c.cid as string,
    custom: custom(c, 'ChannelResponse'),
    createdBy: (c.created_by as Json | undefined)?.id as string | undefined,
    truncatedAt: time(c.truncated_at),
    deletedAt: time(c.deleted_at),
  });
  const reaction = (r: Json): ReactionView => ({
    messageId: r.message_id as string,
    userId: r.user_id as string,
    type: r.type as string,
    score: r.score as number,
    custom: custom(r, 'ReactionResponse'),
  });
  const message = (m: Json): MessageView => ({
    id: m.id as string,
    text: m.text as string,
    type: m.type as string,
    userId: (m.user as Json).id as string,
    parentId: m.parent_id as string | undefined,
    replyCount: m.reply_count as number,
    custom: custom(m, 'MessageResponse'),
    latestReactions: (m.latest_reactions as Json[]).map(reaction),
    deletedAt: time(m.deleted_at),
  });
  const member = (m: Json): MemberView => ({
    userId: m.user_id as string,
    channelRole: m.channel_role as string,
    custom: Object.fromEntries(
      Object.entries(custom(m, 'ChannelMemberResponse')).filter(([key]) => !CHATPORT_MEMBER_FIELDS.has(key)),
    ),
    invited: m.invited as boolean,
    inviteAcceptedAt: time(m.invite_accepted_at),
    inviteRejectedAt: time(m.invite_rejected_at),
    pinnedAt: time(m.pinned_at),
    archivedAt: time(m.archived_at),
  });
  const state = (s: Json): StateView => ({
    channel: channel(s.channel as Json),
    members: (s.members as Json[]).map((m) => ({
      userId: m.user_id as string,
      channelRole: m.channel_role as string,
    })),
    messages: (s.messages as Json[]).map(message),
  });
  return { user, channel, reaction, message, member, state };
}
