import type { Kysely } from 'kysely';
import type { Database, UserRow } from '../../database/database.types.js';
import { lookupBatches, unique } from '../../lib/ids.js';

export async function findUser(
  db: Kysely<Database>,
  appId: number,
  id: string,
): Promise<UserRow | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where('app_id', '=', appId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/**
 * Users by id, in batches, as a map; ids without a row are simply absent. With `lock`, the rows are
 * locked until the transaction ends (PostgreSQL `FOR UPDATE`, in id order, so that two transactions
 * locking overlapping users queue rather than deadlock).
 */
export async function findUsersByIds(
  db: Kysely<Database>,
  appId: number,
  ids: Iterable<string>,
  lock = false,
): Promise<Map<string, UserRow>> {
  const users = new Map<string, UserRow>();
  for (const batch of lookupBatches(unique(ids).sort(), 500)) {
    const rows = await db
      .selectFrom('users')
      .selectAll()
      .where('app_id', '=', appId)
      .where('id', 'in', batch)
      .$if(lock, (query) => query.orderBy('id').forUpdate())
      .execute();
    for (const row of rows) users.set(row.id, row);
  }
  return users;
}

/** The ids among `ids` that have no user row. */
export async function missingUserIds(
  db: Kysely<Database>,
  appId: number,
  ids: Iterable<string>,
): Promise<string[]> {
  const wanted = unique(ids);
  if (wanted.length === 0) return [];
  const found = await findUsersByIds(db, appId, wanted);
  return wanted.filter((id) => !found.has(id));
}

/**
 * Inserts the user, or replaces role, custom data, teams and updated_at of the stored one (which keeps
 * its created_at, ban and deletion); returns the row as stored.
 */
export async function upsertUserRow(db: Kysely<Database>, row: UserRow): Promise<UserRow> {
  return db
    .insertInto('users')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['app_id', 'id']).doUpdateSet({
        role: row.role,
        custom: row.custom,
        teams: row.teams,
        updated_at: row.updated_at,
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}
