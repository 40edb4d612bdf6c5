/**
 * Changes to a channel's members as `POST /channels/{type}/{id}` makes them (add, invite, remove,
 * roles, invitation answers) and to one member's own state (`PATCH .../member`, hide, show). Each runs
 * inside the caller's write transaction; a refusal throws before the transaction commits, so it
 * changes nothing.
 */
import type { Kysely } from 'kysely';
import type { DatabaseDialect } from '../../database/database.js';
import type { Database, MemberRow } from '../../database/database.types.js';
import type { Clock } from '../../lib/time.js';
import { inputError, notFound } from '../../lib/errors.js';
import { parseObject } from '../../lib/json.js';
import { applyPartialUpdate, type PartialUpdate } from '../../lib/partial-update.js';
import { assertUsersExist } from '../users/users.usecases.js';
import { assertRole, memberRows, type MemberInput } from './channels.members.js';
import { memberShape } from './channels.shape.js';
import { addMemberRows, findChannel } from './channels.repository.js';

interface Deps {
  dialect: DatabaseDialect;
  clock: Clock;
}

async function liveChannel(db: Kysely<Database>, appId: number, cid: string): Promise<void> {
  const channel = await findChannel(db, appId, cid);
  if (!channel || channel.deleted_at !== null) throw notFound(`channel ${cid} does not exist`);
}

/** The member rows of these users in a channel, by user id; with `lock`, locked until the commit. */
export async function findMembers(
  db: Kysely<Database>,
  appId: number,
  cid: string,
  userIds: string[],
  lock = false,
): Promise<Map<string, MemberRow>> {
  if (userIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('members')
    .selectAll()
    .where('app_id', '=', appId)
    .where('cid', '=', cid)
    .where('user_id', 'in', [...userIds].sort())
    .orderBy('user_id')
    .$if(lock, (query) => query.forUpdate())
    .execute();
  return new Map(rows.map((row) => [row.user_id, row]));
}

/** Refuses users who are not members of the channel, naming them under `field`. */
function assertMembers(found: Map<string, MemberRow>, userIds: string[], field: string): void {
  const missing = userIds.filter((id) => !found.has(id));
  if (missing.length > 0)
    throw inputError(field, `users are not members of the channel: ${missing.join(', ')}`);
}

async function updateMember(
  db: Kysely<Database>,
  row: MemberRow,
  changes: Partial<Omit<MemberRow, 'app_id' | 'cid' | 'user_id'>>,
): Promise<MemberRow> {
  return db
    .updateTable('members')
    .set(changes)
    .where('app_id', '=', row.app_id)
    .where('cid', '=', row.cid)
    .where('user_id', '=', row.user_id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface AddOptions {
  /** New members are invited (pending) rather than joined. */
  invited: boolean;
  /** Messages at or before this time are hidden from the new members (`hide_history`). */
  hideMessagesBefore: number | null;
}

/**
 * Adds members (or invitations) and returns how many rows were added. A user already a member keeps
 * their membership; a role or custom data the request names for them is applied (custom data merged),
 * so nothing sent is dropped. Inviting a user who rejected an earlier invitation invites them again.
 */
export async function addOrInviteMembers(
  db: Kysely<Database>,
  appId: number,
  cid: string,
  members: MemberInput[],
  now: number,
  options: AddOptions & { field: string; rowLocks: boolean },
): Promise<number> {
  if (members.length === 0) return 0;
  const ids = members.map((m) => m.userId);
  await assertUsersExist(db, appId, ids, options.field);
  const existing = await findMembers(db, appId, cid, ids, options.rowLocks);
  const fresh = members.filter((m) => !existing.has(m.userId));
  const added = await addMemberRows(
    db,
    memberRows(appId, cid, fresh, now, {
      invited: options.invited ? 1 : 0,
      hide_messages_before: options.hideMessagesBefore,
    }),
  );
  for (const member of members) {
    const row = existing.get(member.userId);
    if (!row) continue;
    const changes: Partial<MemberRow> = {};
    if (member.roleGiven && member.channelRole !== row.channel_role)
      changes.channel_role = member.channelRole;
    if (Object.keys(member.custom).length > 0)
      changes.custom = JSON.stringify({ ...parseObject(row.custom), ...member.custom });
    if (options.invited && row.invite_rejected_at !== null)
      Object.assign(changes, { invited: 1, invite_rejected_at: null, invite_accepted_at: null });
    if (Object.keys(changes).length > 0) await updateMember(db, row, { ...changes, updated_at: now });
  }
  return added;
}

export interface RoleChanges {
  addModerators: string[];
  demoteModerators: string[];
  assignRoles: Array<{ userId: string; channelRole: string }>;
}

/** `add_moderators`, `demote_moderators`, `assign_roles`: every user named must be a member. */
export async function changeRoles(
  db: Kysely<Database>,
  appId: number,
  cid: string,
  changes: RoleChanges,
  now: number,
  rowLocks: boolean,
): Promise<void> {
  const named = [
    ...changes.addModerators,
    ...changes.demoteModerators,
    ...changes.assignRoles.map((r) => r.userId),
  ];
  if (named.length === 0) return;
  const found = await findMembers(db, appId, cid, [...new Set(named)], rowLocks);
  assertMembers(found, changes.addModerators, 'add_moderators');
  assertMembers(found, changes.demoteModerators, 'demote_moderators');
  assertMembers(
    found,
    changes.assignRoles.map((r) => r.userId),
    'assign_roles',
  );
  const roles = new Map<string, string>();
  for (const id of changes.addModerators) roles.set(id, 'channel_moderator');
  for (const id of changes.demoteModerators)
    if (found.get(id)!.channel_role === 'channel_moderator') roles.set(id, 'channel_member');
  for (const { userId, channelRole } of changes.assignRoles) roles.set(userId, channelRole);
  for (const [userId, role] of [...roles].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const row = found.get(userId)!;
    if (row.channel_role !== role) await updateMember(db, row, { channel_role: role, updated_at: now });
  }
}

/** `assign_roles: [{user_id, channel_role}]` as a request sends it. */
export function roleAssignmentsFromInput(value: unknown): Array<{ userId: string; channelRole: string }> {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw inputError('assign_roles', 'must be a list of {user_id, channel_role}');
  return value.map((entry: unknown, index) => {
    const where = `assign_roles.${index}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      throw inputError(where, 'must be a {user_id, channel_role} object');
    const { user_id: userId, channel_role: role } = entry as Record<string, unknown>;
    if (typeof userId !== 'string') throw inputError(`${where}.user_id`, 'is required');
    assertRole(`${where}.channel_role`, role);
    return { userId, channelRole: role };
  });
}

/** `accept_invite` / `reject_invite` for `userId`: only a pending invitation can be answered. */
export async function answerInvite(
  db: Kysely<Database>,
  appId: number,
  cid: string,
  userId: string,
  answer: 'accept' | 'reject',
  now: number,
  rowLocks: boolean,
): Promise<void> {
  const field = `${answer}_invite`;
  const row = (await findMembers(db, appId, cid, [userId], rowLocks)).get(userId);
  if (!row || row.invited !== 1) throw inputError(field, `user ${userId} has no invitation to ${cid}`);
  if (row.invite_accepted_at !== null || row.invite_rejected_at !== null)
    throw inputError(field, `user ${userId} already answered the invitation to ${cid}`);
  await updateMember(
    db,
    row,
    answer === 'accept'
      ? { invite_accepted_at: now, updated_at: now }
      : { invite_rejected_at: now, updated_at: now },
  );
}

/** The member's row, locked when the dialect locks rows; not-found when the user is not a member. */
async function memberOf(
  db: Kysely<Database>,
  appId: number,
  cid: string,
  userId: string,
  rowLocks: boolean,
): Promise<MemberRow> {
  const row = (await findMembers(db, appId, cid, [userId], rowLocks)).get(userId);
  if (!row) throw notFound(`user ${userId} is not a member of channel ${cid}`);
  return row;
}

/** The member state a partial update may set besides custom data: a boolean that stamps a time. */
const STAMPS: Record<string, 'pinned_at' | 'archived_at'> = { pinned: 'pinned_at', archived: 'archived_at' };

/**
 * `PATCH /channels/{type}/{id}/member`: custom data set and unset (dotted paths reach into nested
 * objects), and `pinned` / `archived` (true stamps the time, false or unset clears it). Other member
 * fields are refused.
 */
export async function updateMemberPartial(
  { dialect, clock }: Deps,
  appId: number,
  cid: string,
  userId: string,
  update: PartialUpdate,
): Promise<MemberRow> {
  return dialect.writeTransaction(async (db) => {
    await liveChannel(db, appId, cid);
    const row = await memberOf(db, appId, cid, userId, dialect.rowLocks);
    return db
      .updateTable('members')
      .set(memberPartialUpdate(row, update, clock.nowMicros()))
      .where('app_id', '=', appId)
      .where('cid', '=', cid)
      .where('user_id', '=', userId)
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

function memberPartialUpdate(row: MemberRow, update: PartialUpdate, now: number): Partial<MemberRow> {
  const applied = applyPartialUpdate(parseObject(row.custom), update, memberShape.known);
  const changes: Partial<MemberRow> = { custom: JSON.stringify(applied.custom), updated_at: now };
  for (const name of applied.unset) {
    const column = Object.hasOwn(STAMPS, name) ? STAMPS[name] : undefined;
    if (!column) throw inputError(`unset.${name}`, 'cannot be unset');
    changes[column] = null;
  }
  for (const [name, value] of Object.entries(applied.set)) {
    const column = Object.hasOwn(STAMPS, name) ? STAMPS[name] : undefined;
    if (!column) throw inputError(`set.${name}`, 'cannot be changed');
    if (typeof value !== 'boolean') throw inputError(`set.${name}`, 'must be a boolean');
    // Pinning again keeps the first time, as the channel list orders by it.
    changes[column] = value ? (row[column] ?? now) : null;
  }
  return changes;
}

/**
 * `POST .../hide` and `/show`: the member's `hidden` flag. Hiding with `clearHistory` also hides every
 * message created until now from the member.
 */
export async function setHidden(
  { dialect, clock }: Deps,
  appId: number,
  cid: string,
  userId: string,
  hidden: boolean,
  clearHistory: boolean,
): Promise<MemberRow> {
  return dialect.writeTransaction(async (db) => {
    await liveChannel(db, appId, cid);
    const row = await memberOf(db, appId, cid, userId, dialect.rowLocks);
    const now = clock.nowMicros();
    return updateMember(db, row, {
      hidden: hidden ? 1 : 0,
      ...(clearHistory ? { hide_messages_before: now } : {}),
      updated_at: now,
    });
  });
}
