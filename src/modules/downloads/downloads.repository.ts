import type { Kysely } from 'kysely';
import type { Database, TaskRow } from '../../database/database.types.js';

export type PublishedFile = Pick<TaskRow, 'file_key' | 'file_expires_at' | 'file_deleted_at'>;

export type ExpiredFile = Pick<TaskRow, 'app_id' | 'id' | 'file_expires_at'> & { file_key: string };

/** The api_secret that signs an app's download links, found by the app's numeric id. */
export async function findAppSecret(db: Kysely<Database>, appId: number): Promise<string | undefined> {
  const row = await db.selectFrom('apps').select('api_secret').where('id', '=', appId).executeTakeFirst();
  return row?.api_secret;
}

/** The file a task published, if the task exists in this app. */
export async function findPublishedFile(
  db: Kysely<Database>,
  appId: number,
  taskId: string,
): Promise<PublishedFile | undefined> {
  return db
    .selectFrom('tasks')
    .select(['file_key', 'file_expires_at', 'file_deleted_at'])
    .where('app_id', '=', appId)
    .where('id', '=', taskId)
    .executeTakeFirst();
}

/**
 * Files past retention and not yet deleted, oldest first, after the `after` position: the sweeper
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
