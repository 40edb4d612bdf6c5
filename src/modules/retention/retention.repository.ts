import type { Kysely } from 'kysely';
import type { Database, TaskRow } from '../../database/database.types.js';
import type { TaskFileState } from './retention.policy.js';

export type ExpiredFile = Pick<TaskRow, 'app_id' | 'id' | 'file_expires_at'> & { file_key: string };

/**
 * Files past retention and not yet deleted (the query form of retention.policy's fileExpiredAt), oldest first, after the `after` position: the sweeper
 * pages with it, so a file whose delete keeps failing does not block the ones behind it.
 */
export async function selectExpiredFiles(
  db: Kysely<Database>,
  {
    nowMicros,
    after,
    limit,
  }: { nowMicros: number; after: { expiresAt: number; id: string } | undefined; limit: number },
): Promise<ExpiredFile[]> {
  let query = db
    .selectFrom('tasks')
    .select(['app_id', 'id', 'file_key', 'file_expires_at'])
    .where('file_key', 'is not', null)
    .where('file_deleted_at', 'is', null)
    .where('file_expires_at', '<=', nowMicros);
  if (after) {
    query = query.where((eb) =>
      eb(eb.refTuple('file_expires_at', 'id'), '>', eb.tuple(after.expiresAt, after.id)),
    );
  }
  const rows = await query.orderBy('file_expires_at').orderBy('id').limit(limit).execute();
  return rows as ExpiredFile[];
}

/** Records that retention deleted a task's file; only while the task still names that expired file. */
export async function markFileDeleted(
  db: Kysely<Database>,
  {
    appId,
    taskId,
    fileKey,
    deletedAt,
  }: { appId: number; taskId: string; fileKey: string; deletedAt: number },
): Promise<void> {
  await db
    .updateTable('tasks')
    .set({ file_deleted_at: deletedAt })
    .where('app_id', '=', appId)
    .where('id', '=', taskId)
    .where('file_key', '=', fileKey)
    .where('file_deleted_at', 'is', null)
    .where('file_expires_at', '<=', deletedAt)
    .execute();
}

/** What the sweeper needs to know of these tasks (any app), by id; unknown ids are left out. */
export async function findTaskFileStates(
  db: Kysely<Database>,
  ids: string[],
): Promise<Map<string, TaskFileState>> {
  const states = new Map<string, TaskFileState>();
  if (ids.length === 0) return states;
  const rows = await db
    .selectFrom('tasks')
    .select(['id', 'app_id', 'status', 'attempt', 'file_key', 'file_expires_at', 'file_deleted_at'])
    .where('id', 'in', ids)
    .execute();
  for (const row of rows) states.set(row.id, row);
  return states;
}

/**
 * Deletes up to `limit` tombstones of deletes recorded before `before` (retention.policy's
 * tombstonesPrunedBefore); answers how many went.
 */
export async function pruneTombstones(
  db: Kysely<Database>,
  { before, limit }: { before: number; limit: number },
): Promise<number> {
  const result = await db
    .deleteFrom('tombstones')
    .where('id', 'in', (eb) =>
      eb.selectFrom('tombstones').select('id').where('deleted_at', '<', before).limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
