/**
 * Members as requests name them, and the membership writes the channel use cases share: rows are
 * added or removed first and member_count changes by exactly that many, in the channel row's last
 * statement, so its lock is held only until the commit.
 */
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ChannelRow, Database, MemberRow } from '../../database/database.types.js';
import { inputError, notFound } from '../../lib/errors.js';
import { assertId } from '../../lib/ids.js';
import { isPlainObject } from '../../lib/json.js';
import { addMemberRows, adjustMemberCount } from './channels.repository.js';

export interface MemberInput {
  userId: string;
  channelRole: string;
}

/** Members arrive as ids or as `{user_id, channel_role}` objects. */
export function membersFromInput(value: unknown, field: string): MemberInput[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw inputError(field, 'must be a list of user ids');
  const members = value.map((entry: unknown) => {
    if (typeof entry === 'string') return { userId: entry, channelRole: 'channel_member' };
    if (isPlainObject(entry) && typeof entry.user_id === 'string') {
      const role = entry.channel_role ?? 'channel_member';
      if (typeof role !== 'string') throw inputError(`${field}.channel_role`, 'must be a string');
      return { userId: entry.user_id, channelRole: role };
    }
    throw inputError(field, 'must be a list of user ids or {user_id} objects');
  });
  for (const member of members) assertId(field, member.userId);
  return [...new Map(members.map((m) => [m.userId, m])).values()];
}

/** A channel without an id is named by its members: the same members always give the same channel. */
export function distinctChannelId(memberIds: string[]): string {
  const sorted = [...new Set(memberIds)].sort();
  const digest = crypto.createHash('sha256').update(sorted.join(',')).digest('base64url').slice(0, 32);
  return `!members-${digest}`;
}

/**
 * Adds the members not there yet and counts them into member_count; returns the updated channel row
 * (undefined when nobody was added). Throws not-found when the channel was removed meanwhile.
 */
export async function addMembers(
  db: Kysely<Database>,
  appId: number,
  cid: string,
  members: MemberInput[],
  now: number,
): Promise<ChannelRow | undefined> {
  if (members.length === 0) return undefined;
  const added = await addMemberRows(db, memberRows(appId, cid, members, now));
  if (added === 0) return undefined;
  return countMembers(db, appId, cid, added);
}

export function memberRows(appId: number, cid: string, members: MemberInput[], now: number): MemberRow[] {
  return members.map((m) => ({
    app_id: appId,
    cid,
    user_id: m.userId,
    channel_role: m.channelRole,
    created_at: now,
    updated_at: now,
    truncated_at: null,
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
