/**
 * Members as requests name them (ids or member objects with a role and custom data), and the membership writes the channel use cases share: rows are
 * added or removed first and member_count changes by exactly that many, in the channel row's last
 * statement, so its lock is held only until the commit.
 */
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ChannelRow, Database, MemberRow } from '../../database/database.types.js';
import { inputError, notFound } from '../../lib/errors.js';
import { assertId } from '../../lib/ids.js';
import { isPlainObject, splitCustom, type JsonObject } from '../../lib/json.js';
import { memberShape, NEW_MEMBER } from './channels.shape.js';
import { adjustMemberCount } from './channels.repository.js';

export interface MemberInput {
  userId: string;
  channelRole: string;
  /** Whether the request named the role (else the member keeps the one they have). */
  roleGiven: boolean;
  /** Custom data the request carried (flattened beside `user_id`, or under `custom`). */
  custom: JsonObject;
}

/** Names a member request may carry beside its custom data. */
const MEMBER_INPUT = new Set(['user_id', 'user', 'channel_role', 'custom']);

/** One member entry: an id, or `{user_id, channel_role?, custom?, ...custom}` (or `{user: {id}}`). */
function memberFromInput(entry: unknown, where: string): MemberInput {
  if (typeof entry === 'string') {
    assertId(where, entry);
    return { userId: entry, channelRole: 'channel_member', roleGiven: false, custom: {} };
  }
  if (!isPlainObject(entry)) throw inputError(where, 'must be a user id or a {user_id} object');
  const userId =
    typeof entry.user_id === 'string'
      ? entry.user_id
      : isPlainObject(entry.user) && typeof entry.user.id === 'string'
        ? entry.user.id
        : undefined;
  if (userId === undefined) throw inputError(`${where}.user_id`, 'is required');
  assertId(`${where}.user_id`, userId);
  const role = entry.channel_role ?? undefined;
  if (role !== undefined) assertRole(`${where}.channel_role`, role);
  for (const key of Object.keys(entry)) {
    if (memberShape.known.has(key) && !MEMBER_INPUT.has(key))
      throw inputError(`${where}.${key}`, 'cannot be set on a member');
  }
  const { custom } = splitCustom(entry, memberShape.known);
  if (entry.custom !== undefined) {
    if (!isPlainObject(entry.custom)) throw inputError(`${where}.custom`, 'must be an object');
    Object.assign(custom, entry.custom);
  }
  return {
    userId,
    channelRole: (role as string | undefined) ?? 'channel_member',
    roleGiven: role !== undefined,
    custom,
  };
}

/** A channel role: chatport keeps any role name Stream would (ids' characters). */
export function assertRole(field: string, role: unknown): asserts role is string {
  if (typeof role !== 'string') throw inputError(field, 'must be a string');
  assertId(field, role);
}

/** Members arrive as ids or as member objects; a user named twice counts once (the last entry). */
export function membersFromInput(value: unknown, field: string): MemberInput[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw inputError(field, 'must be a list of user ids or member objects');
  const members = value.map((entry: unknown, index) => memberFromInput(entry, `${field}.${index}`));
  return [...new Map(members.map((m) => [m.userId, m])).values()];
}

/** A list of user ids (`remove_members`, `add_moderators`, `demote_moderators`). */
export function userIdsFromInput(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw inputError(field, 'must be a list of user ids');
  value.forEach((id: unknown, index) => {
    if (typeof id !== 'string') throw inputError(`${field}.${index}`, 'must be a user id');
    assertId(`${field}.${index}`, id);
  });
  return [...new Set(value as string[])];
}

/** A channel without an id is named by its members: the same members always give the same channel. */
export function distinctChannelId(memberIds: string[]): string {
  const sorted = [...new Set(memberIds)].sort();
  const digest = crypto.createHash('sha256').update(sorted.join(',')).digest('base64url').slice(0, 32);
  return `!members-${digest}`;
}

/** New member rows; `state` sets what every one of them starts with (an invitation, hidden history). */
export function memberRows(
  appId: number,
  cid: string,
  members: MemberInput[],
  now: number,
  state: Partial<Pick<MemberRow, 'invited' | 'hide_messages_before'>> = {},
): MemberRow[] {
  return members.map((m) => ({
    ...NEW_MEMBER,
    app_id: appId,
    cid,
    user_id: m.userId,
    channel_role: m.channelRole,
    custom: JSON.stringify(m.custom),
    created_at: now,
    updated_at: now,
    truncated_at: null,
    ...state,
  }));
}

/** Adds `delta` to member_count: the last statement on the channel row, so its lock is held briefly. */
export async function countMembers(
  db: Kysely<Database>,
  appId: number,
  cid: string,
  delta: number,
): Promise<ChannelRow> {
  const channel = await adjustMemberCount(db, appId, cid, delta);
  if (!channel) throw notFound(`channel ${cid} does not exist`);
  return channel;
}
