import type { Kysely } from 'kysely';
import type { DatabaseDialect } from '../../database/database.js';
import type { ChannelRow, Database } from '../../database/database.types.js';
import type { Caller } from '../../lib/caller.js';
import { inputError, notFound } from '../../lib/errors.js';
import { assertChannelType, assertId } from '../../lib/ids.js';
import { isPlainObject, parseObject, splitCustom, type JsonObject } from '../../lib/json.js';
import { applyPartialUpdate, type PartialUpdate } from '../../lib/partial-update.js';
import type { Clock } from '../../lib/time.js';
import { assertUsersExist } from '../users/users.usecases.js';
import { channelShape } from './channels.shape.js';
import {
  countMembers,
  distinctChannelId,
  memberRows,
  membersFromInput,
  userIdsFromInput,
} from './channels.members.js';
import {
  addOrInviteMembers,
  answerInvite,
  changeRoles,
  roleAssignmentsFromInput,
} from './channels.membership.js';
import {
  addMemberRows,
  findChannel,
  insertChannelIfAbsent,
  removeMemberRows,
  reviveChannel,
} from './channels.repository.js';

interface Deps {
  db: Kysely<Database>;
  dialect: DatabaseDialect;
  clock: Clock;
}

function creatorOf(caller: Caller, data: JsonObject): string | undefined {
  if (caller.kind === 'user') return caller.userId;
  if (typeof data.created_by_id === 'string') return data.created_by_id;
  if (isPlainObject(data.created_by) && typeof data.created_by.id === 'string') return data.created_by.id;
  return undefined;
}

export interface GetOrCreateInput {
  type: string;
  id: string | undefined;
  data: JsonObject;
}

/**
 * `POST /channels/{type}/{id}/query` and `/channels/{type}/query`: returns the channel, creating it
 * (with its creator and members) when it does not exist. A soft-deleted channel is revived empty, as
 * Stream does: its old messages stay stored but are hidden as if truncated at the deletion. Racing
 * calls for the same new channel all succeed: one creates it, the others answer with what it created.
 */
export async function getOrCreateChannel(
  { db, dialect, clock }: Deps,
  appId: number,
  caller: Caller,
  input: GetOrCreateInput,
): Promise<{ channel: ChannelRow; created: boolean }> {
  assertChannelType('type', input.type);
  const members = membersFromInput(input.data.members, 'data.members');
  const invites = membersFromInput(input.data.invites, 'data.invites');
  for (const invite of invites) {
    if (members.some((m) => m.userId === invite.userId))
      throw inputError('data.invites', `user ${invite.userId} is both a member and invited`);
  }
  let id = input.id;
  if (id === undefined) {
    if (members.length === 0)
      throw inputError('data.members', 'are required to create a channel without an id');
    id = distinctChannelId(members.map((m) => m.userId));
  } else assertId('id', id);
  const cid = `${input.type}:${id}`;
  // Most calls query a live channel: answered without a write transaction (on SQLite one would queue
  // behind every writer of the database; on PostgreSQL it costs two more round trips).
  const live = await findChannel(db, appId, cid);
  if (live && live.deleted_at === null) return { channel: live, created: false };
  return dialect.writeTransaction(async (trx) => {
    const existing = await findChannel(trx, appId, cid);
    if (existing && existing.deleted_at === null) return { channel: existing, created: false };
    if (existing) {
      const revived = await reviveChannel(trx, appId, cid, clock.nowMicros());
      // Nothing revived: another call revived it first, or it was removed for good meanwhile.
      const channel = revived ?? (await findChannel(trx, appId, cid));
      if (channel) return { channel, created: false };
    }
    const createdBy = creatorOf(caller, input.data);
    if (createdBy === undefined) {
      throw inputError(
        'data.created_by_id',
        'either data.created_by or data.created_by_id must be provided when using server side auth',
      );
    }
    await assertUsersExist(trx, appId, [createdBy], 'data.created_by_id');
    await assertUsersExist(
      trx,
      appId,
      members.map((m) => m.userId),
      'data.members',
    );
    await assertUsersExist(
      trx,
      appId,
      invites.map((m) => m.userId),
      'data.invites',
    );
    const { custom } = splitCustom(input.data, channelShape.known);
    if (isPlainObject(input.data.custom)) Object.assign(custom, input.data.custom);
    const now = clock.nowMicros();
    const inserted = await insertChannelIfAbsent(trx, {
      app_id: appId,
      cid,
      type: input.type,
      id,
      created_by_id: createdBy,
      custom: JSON.stringify(custom),
      member_count: 0,
      frozen: input.data.frozen === true ? 1 : 0,
      disabled: input.data.disabled === true ? 1 : 0,
      created_at: now,
      updated_at: now,
      deleted_at: null,
      truncated_at: null,
      truncated_by_id: null,
      last_message_at: null,
      skip_truncate: 0,
    });
    if (!inserted) {
      // Another call created it since the look-up (PostgreSQL waited for that call to commit).
      const channel = await findChannel(trx, appId, cid);
      if (!channel) throw notFound(`channel ${cid} does not exist`);
      return { channel, created: false };
    }
    const invited = await addMemberRows(trx, memberRows(appId, cid, invites, now, { invited: 1 }));
    const added = (await addMemberRows(trx, memberRows(appId, cid, members, now))) + invited;
    return {
      channel: added > 0 ? await countMembers(trx, appId, cid, added) : inserted,
      created: true,
    };
  });
}

/** The channel unless it is gone or soft-deleted (404); with `lock`, locked until the transaction ends. */
export async function liveChannel(
  db: Kysely<Database>,
  appId: number,
  cid: string,
  lock = false,
): Promise<ChannelRow> {
  const channel = await findChannel(db, appId, cid, lock);
  if (!channel || channel.deleted_at !== null) throw notFound(`channel ${cid} does not exist`);
  return channel;
}

/** The channel as this transaction left it; it may have been removed meanwhile by another. */
async function channelAfterChange(db: Kysely<Database>, appId: number, cid: string): Promise<ChannelRow> {
  const channel = await findChannel(db, appId, cid);
  if (!channel) throw notFound(`channel ${cid} does not exist`);
  return channel;
}

export interface UpdateChannelInput {
  data?: JsonObject;
  addMembers?: unknown;
  removeMembers?: unknown;
  invites?: unknown;
  addModerators?: unknown;
  demoteModerators?: unknown;
  assignRoles?: unknown;
  /** `accept_invite` / `reject_invite`, answered for `userId`. */
  answerInvite?: 'accept' | 'reject';
  userId?: string;
  /** Messages at or before this time are hidden from the members added (`hide_history[_before]`). */
  hideHistoryBefore?: number;
}

/**
 * `POST /channels/{type}/{id}`: replaces custom data (when `data` is sent), adds, invites or removes
 * members, changes their roles and answers an invitation, all in one transaction.
 */
export async function updateChannel(
  { dialect, clock }: Deps,
  appId: number,
  cid: string,
  input: UpdateChannelInput,
): Promise<ChannelRow> {
  const adding = membersFromInput(input.addMembers, 'add_members');
  const inviting = membersFromInput(input.invites, 'invites');
  const removing = userIdsFromInput(input.removeMembers, 'remove_members');
  const roles = {
    addModerators: userIdsFromInput(input.addModerators, 'add_moderators'),
    demoteModerators: userIdsFromInput(input.demoteModerators, 'demote_moderators'),
    assignRoles: roleAssignmentsFromInput(input.assignRoles),
  };
  for (const member of inviting) {
    if (adding.some((m) => m.userId === member.userId))
      throw inputError('invites', `user ${member.userId} is both added and invited`);
  }
  return dialect.writeTransaction(async (trx) => {
    // With data, frozen and disabled keep what they were unless sent: read them under the row lock.
    const channel = await liveChannel(trx, appId, cid, dialect.rowLocks && input.data !== undefined);
    const now = clock.nowMicros();
    if (input.data) {
      const { custom } = splitCustom(input.data, channelShape.known);
      if (isPlainObject(input.data.custom)) Object.assign(custom, input.data.custom);
      await trx
        .updateTable('channels')
        .set({
          custom: JSON.stringify(custom),
          frozen: input.data.frozen === true ? 1 : input.data.frozen === false ? 0 : channel.frozen,
          disabled: input.data.disabled === true ? 1 : input.data.disabled === false ? 0 : channel.disabled,
          updated_at: now,
        })
        .where('app_id', '=', appId)
        .where('cid', '=', cid)
        .execute();
    }
    const options = { rowLocks: dialect.rowLocks, hideMessagesBefore: input.hideHistoryBefore ?? null };
    let added = await addOrInviteMembers(trx, appId, cid, adding, now, {
      ...options,
      invited: false,
      field: 'add_members',
    });
    added += await addOrInviteMembers(trx, appId, cid, inviting, now, {
      ...options,
      invited: true,
      field: 'invites',
    });
    const removed = removing.length > 0 ? await removeMemberRows(trx, appId, cid, removing) : 0;
    await changeRoles(trx, appId, cid, roles, now, dialect.rowLocks);
    if (input.answerInvite) {
      if (input.userId === undefined) throw inputError('user_id', 'is required to answer an invitation');
      await answerInvite(trx, appId, cid, input.userId, input.answerInvite, now, dialect.rowLocks);
    }
    if (added !== removed) return countMembers(trx, appId, cid, added - removed);
    return channelAfterChange(trx, appId, cid);
  });
}

/**
 * `PATCH /channels/{type}/{id}`: a partial update (lib/partial-update.ts). `frozen` and `disabled` may
 * be set; every other field merges into the custom data; other known fields are refused.
 */
export async function partialUpdateChannel(
  { dialect, clock }: Deps,
  appId: number,
  cid: string,
  update: PartialUpdate,
): Promise<ChannelRow> {
  return dialect.writeTransaction(async (trx) => {
    // Locked before it is read, so that parallel partial updates apply one after the other.
    const channel = await liveChannel(trx, appId, cid, dialect.rowLocks);
    const applied = applyPartialUpdate(parseObject(channel.custom), update, channelShape.known);
    for (const key of applied.unset) throw inputError(`unset.${key}`, 'cannot be unset');
    let frozen = channel.frozen;
    let disabled = channel.disabled;
    for (const [key, value] of Object.entries(applied.set)) {
      if (key !== 'frozen' && key !== 'disabled') throw inputError(`set.${key}`, 'cannot be changed');
      if (typeof value !== 'boolean') throw inputError(`set.${key}`, 'must be a boolean');
      if (key === 'frozen') frozen = value ? 1 : 0;
      else disabled = value ? 1 : 0;
    }
    const now = clock.nowMicros();
    return trx
      .updateTable('channels')
      .set({ custom: JSON.stringify(applied.custom), frozen, disabled, updated_at: now })
      .where('app_id', '=', appId)
      .where('cid', '=', cid)
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}
