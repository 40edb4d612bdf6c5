import type { Kysely } from 'kysely';
import type { ChannelRow, Database, MemberRow } from '../../database/database.types.js';
import { chunk, unique } from '../../lib/ids.js';

export async function findChannel(
  db: Kysely<Database>,
  appId: number,
  cid: string,
): Promise<ChannelRow | undefined> {
  return db
    .selectFrom('channels')
    .selectAll()
    .where('app_id', '=', appId)
    .where('cid', '=', cid)
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

export async function membersOfChannels(
  db: Kysely<Database>,
  appId: number,
  cids: Iterable<string>,
): Promise<Map<string, MemberRow[]>> {
  const byChannel = new Map<string, MemberRow[]>();
  for (const batch of chunk(unique(cids), 500)) {
    const rows = await db
      .selectFrom('members')
      .selectAll()
      .where('app_id', '=', appId)
      .where('cid', 'in', batch)
      .orderBy('created_at')
      .orderBy('user_id')
      .execute();
    for (const row of rows) {
      const list = byChannel.get(row.cid);
      if (list) list.push(row);
      else byChannel.set(row.cid, [row]);
    }
  }
  return byChannel;
}

/** Adds members that are not there yet (existing memberships keep their role and time). */
export async function addMemberRows(db: Kysely<Database>, rows: MemberRow[]): Promise<void> {
  for (const batch of chunk(rows, 200)) {
    await db
      .insertInto('members')
      .values(batch)
      .onConflict((oc) => oc.columns(['app_id', 'cid', 'user_id']).doNothing())
      .execute();
  }
}

export async function removeMemberRows(
  db: Kysely<Database>,
  appId: number,
  cid: string,
  userIds: string[],
): Promise<void> {
  for (const batch of chunk(unique(userIds), 500)) {
    await db
      .deleteFrom('members')
      .where('app_id', '=', appId)
      .where('cid', '=', cid)
      .where('user_id', 'in', batch)
      .execute();
  }
}

/** Recounts `member_count` of these channels from their member rows. */
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

/** Removes a channel for good with its members, messages and reactions. Run inside a transaction. */
export async function hardDeleteChannel(db: Kysely<Database>, appId: number, cid: string): Promise<void> {
  await db
    .deleteFrom('reactions')
    .where('app_id', '=', appId)
    .where('message_id', 'in', (eb) =>
      eb.selectFrom('messages').select('id').where('app_id', '=', appId).where('cid', '=', cid),
    )
    .execute();
  await db.deleteFrom('messages').where('app_id', '=', appId).where('cid', '=', cid).execute();
  await db.deleteFrom('members').where('app_id', '=', appId).where('cid', '=', cid).execute();
  await db.deleteFrom('channels').where('app_id', '=', appId).where('cid', '=', cid).execute();
}
