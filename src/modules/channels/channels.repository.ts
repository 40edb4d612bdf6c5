import { sql, type Kysely } from 'kysely';
import type { ChannelRow, Database, MemberRow } from '../../database/database.types.js';
import { chunk, unique } from '../../lib/ids.js';
import { hardDeleteChannelMessages } from '../messages/messages.repository.js';

/**
 * The channel; with `lock`, locked until the transaction ends (PostgreSQL `FOR UPDATE`). With
 * `'keyShare'` (`FOR KEY SHARE`, what a message being sent takes): a hard delete, and any writer that
 * takes the row `FOR UPDATE` (soft delete, truncation), waits for the transaction, while other messages
 * and updates of the row's counters and times do not.
 */
export async function findChannel(
  db: Kysely<Database>,
  appId: number,
  cid: string,
  lock: boolean | 'keyShare' = false,
): Promise<ChannelRow | undefined> {
  return db
    .selectFrom('channels')
    .selectAll()
    .where('app_id', '=', appId)
    .where('cid', '=', cid)
    .$if(lock === true, (query) => query.forUpdate())
    .$if(lock === 'keyShare', (query) => query.forKeyShare())
    .executeTakeFirst();
}

export async function findChannelsByCids(
  db: Kysely<Database>,
  appId: number,
  cids: Iterable<string>,
): Promise<Map<string, ChannelRow>> {
  const found = new Map<string, ChannelRow>();
  for (const batch of chunk(unique(cids), 500)) {
    const rows = await db
      .selectFrom('channels')
      .selectAll()
      .where('app_id', '=', appId)
      .where('cid', 'in', batch)
      .execute();
    for (const row of rows) found.set(row.cid, row);
  }
  return found;
}

export async function membersOf(
  db: Kysely<Database>,
  appId: number,
  cid: string,
  limit?: number,
  offset = 0,
): Promise<MemberRow[]> {
  let query = db
    .selectFrom('members')
    .selectAll()
    .where('app_id', '=', appId)
    .where('cid', '=', cid)
    .orderBy('created_at')
    .orderBy('user_id');
  if (limit !== undefined) query = query.limit(limit).offset(offset);
  return query.execute();
}

/**
 * One page of each channel's members in member order (`created_at`, then `user_id`): the `limit`
 * members after the first `offset`, read by the `members_channel_order` index, so a channel state never
 * reads more members than it shows, however many the channel has. One query a channel: numbering the
 * members of all channels at once (a window function) reads every member of every channel.
 */
export async function memberPagesOfChannels(
  db: Kysely<Database>,
  appId: number,
  cids: Iterable<string>,
  page: { limit: number; offset: number },
): Promise<Map<string, MemberRow[]>> {
  const byChannel = new Map<string, MemberRow[]>();
  if (page.limit === 0) return byChannel;
  for (const cid of unique(cids))
    byChannel.set(cid, await membersOf(db, appId, cid, page.limit, page.offset));
  return byChannel;
}

/** The user's own membership of each of these channels that they belong to, by cid. */
export async function membershipsOf(
  db: Kysely<Database>,
  appId: number,
  userId: string,
  cids: Iterable<string>,
): Promise<Map<string, MemberRow>> {
  const byChannel = new Map<string, MemberRow>();
  for (const batch of chunk(unique(cids), 500)) {
    const rows = await db
      .selectFrom('members')
      .selectAll()
      .where('app_id', '=', appId)
      .where('user_id', '=', userId)
      .where('cid', 'in', batch)
      .execute();
    for (const row of rows) byChannel.set(row.cid, row);
  }
  return byChannel;
}

/** Inserts the channel unless one with its cid exists; returns the row when this call created it. */
export async function insertChannelIfAbsent(
  db: Kysely<Database>,
  row: ChannelRow,
): Promise<ChannelRow | undefined> {
  return db
    .insertInto('channels')
    .values(row)
    .onConflict((oc) => oc.columns(['app_id', 'cid']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

/**
 * Clears a soft deletion, hiding the channel's earlier messages as if truncated at the deletion
 * (unless it was deleted with `skip_truncate`).
 * Returns the revived row, or nothing when the channel is not (or no longer) soft-deleted.
 */
export async function reviveChannel(
  db: Kysely<Database>,
  appId: number,
  cid: string,
  now: number,
): Promise<ChannelRow | undefined> {
  return db
    .updateTable('channels')
    .set((eb) => ({
      deleted_at: null,
      // Deleted with skip_truncate, it keeps its history (and was never truncated: see deleteChannel).
      truncated_at: eb
        .case()
        .when('skip_truncate', '=', 1)
        .then(eb.ref('truncated_at'))
        .when(eb.and([eb('truncated_at', 'is not', null), eb('truncated_at', '>', eb.ref('deleted_at'))]))
        .then(eb.ref('truncated_at'))
        .else(eb.ref('deleted_at'))
        .end(),
      skip_truncate: 0,
      updated_at: now,
    }))
    .where('app_id', '=', appId)
    .where('cid', '=', cid)
    .where('deleted_at', 'is not', null)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Moves a live channel's last_message_at forward to `at` (never back: a writer that read the clock
 * earlier may commit later). Returns false when the channel is gone or soft-deleted.
 */
export async function advanceLastMessageAt(
  db: Kysely<Database>,
  appId: number,
  cid: string,
  at: number,
): Promise<boolean> {
  const result = await db
    .updateTable('channels')
    .set({
      // Raw: the query builder's CASE would inline `at` as a literal, a new SQL text every time.
      last_message_at: sql<number>`case when last_message_at is null or last_message_at < ${at} then ${at} else last_message_at end`,
    })
    .where('app_id', '=', appId)
    .where('cid', '=', cid)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Adds members that are not there yet (existing memberships keep their role and time); returns how
 * many were added. Rows go in key order, so two transactions adding overlapping members queue.
 */
export async function addMemberRows(db: Kysely<Database>, rows: MemberRow[]): Promise<number> {
  const sorted = [...rows].sort((a, b) => compareKeys(a.cid, b.cid) || compareKeys(a.user_id, b.user_id));
  let added = 0;
  for (const batch of chunk(sorted, 200)) {
    const inserted = await db
      .insertInto('members')
      .values(batch)
      .onConflict((oc) => oc.columns(['app_id', 'cid', 'user_id']).doNothing())
      .returning('user_id')
      .execute();
    added += inserted.length;
  }
  return added;
}

/** Removes these members of a channel; returns how many were members. */
export async function removeMemberRows(
  db: Kysely<Database>,
  appId: number,
  cid: string,
  userIds: string[],
): Promise<number> {
  let removed = 0;
  for (const batch of chunk(unique(userIds).sort(), 500)) {
    const result = await db
      .deleteFrom('members')
      .where('app_id', '=', appId)
      .where('cid', '=', cid)
      .where('user_id', 'in', batch)
      .executeTakeFirst();
    removed += Number(result.numDeletedRows);
  }
  return removed;
}

/**
 * Adds `delta` to a channel's member_count (atomic `member_count + n`, safe beside concurrent writers)
 * and returns the updated row, or nothing when the channel is gone.
 */
export async function adjustMemberCount(
  db: Kysely<Database>,
  appId: number,
  cid: string,
  delta: number,
): Promise<ChannelRow | undefined> {
  return db
    .updateTable('channels')
    .set((eb) => ({ member_count: eb('member_count', '+', delta) }))
    .where('app_id', '=', appId)
    .where('cid', '=', cid)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Locks every channel the user is a member of until the transaction ends (PostgreSQL `FOR UPDATE`, in
 * cid order): a user's deletion changes many channels, and two deletions sharing channels must take
 * them in the same order. Nothing on SQLite, whose write transaction excludes every other writer.
 */
export async function lockChannelsOfMember(
  db: Kysely<Database>,
  appId: number,
  userId: string,
  rowLocks: boolean,
): Promise<void> {
  if (!rowLocks) return;
  await db
    .selectFrom('channels')
    .select('cid')
    .where('app_id', '=', appId)
    .where('cid', 'in', (eb) =>
      eb
        .selectFrom('members')
        .select('members.cid')
        .where('members.app_id', '=', appId)
        .where('members.user_id', '=', userId),
    )
    .orderBy('cid')
    .forUpdate()
    .execute();
}

/** Removes a user from every channel they are a member of, taking one off each member_count. */
export async function removeMemberships(db: Kysely<Database>, appId: number, userId: string): Promise<void> {
  const removed = await db
    .deleteFrom('members')
    .where('app_id', '=', appId)
    .where('user_id', '=', userId)
    .returning('cid')
    .execute();
  for (const batch of chunk(removed.map((r) => r.cid).sort(), 500)) {
    await db
      .updateTable('channels')
      .set((eb) => ({ member_count: eb('member_count', '-', 1) }))
      .where('app_id', '=', appId)
      .where('cid', 'in', batch)
      .execute();
  }
}

/**
 * Recounts `member_count` of these channels from their member rows (the importer's path). Exact only
 * while the caller holds the channels' row locks (see refreshReplyCounts).
 */
export async function refreshMemberCounts(
  db: Kysely<Database>,
  appId: number,
  cids: Iterable<string>,
): Promise<void> {
  for (const batch of chunk(unique(cids), 500)) {
    await db
      .updateTable('channels')
      .set((eb) => ({
        member_count: eb
          .selectFrom('members')
          .select(eb.fn.countAll<number>().as('n'))
          .whereRef('members.app_id', '=', 'channels.app_id')
          .whereRef('members.cid', '=', 'channels.cid'),
      }))
      .where('app_id', '=', appId)
      .where('cid', 'in', batch)
      .execute();
  }
}

/**
 * Removes a channel for good with its members, messages, reactions and mutes. Run inside a
 * transaction. The channel row goes first: that locks it, so writers that touch it (new messages,
 * members) either committed before, and are deleted here, or find it gone and roll back.
 */
export async function hardDeleteChannel(
  db: Kysely<Database>,
  appId: number,
  cid: string,
  rowLocks: boolean,
): Promise<void> {
  await db.deleteFrom('channels').where('app_id', '=', appId).where('cid', '=', cid).execute();
  await hardDeleteChannelMessages(db, appId, cid, rowLocks);
  await db.deleteFrom('members').where('app_id', '=', appId).where('cid', '=', cid).execute();
  // Else a channel created again under the cid would come back muted.
  await db.deleteFrom('channel_mutes').where('app_id', '=', appId).where('cid', '=', cid).execute();
}

/** Removes every channel mute the user holds (their hard delete); each leaves a tombstone. */
export async function removeChannelMutesOf(
  db: Kysely<Database>,
  appId: number,
  userId: string,
): Promise<void> {
  await db.deleteFrom('channel_mutes').where('app_id', '=', appId).where('user_id', '=', userId).execute();
}

/** Orders keys by UTF-16 code unit, as every database compares them under a binary collation. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
