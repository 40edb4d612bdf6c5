import type { Kysely } from 'kysely';
import type { Database, TaskRow } from '../../database/database.types.js';

export type PublishedFile = Pick<TaskRow, 'file_key' | 'file_expires_at' | 'file_deleted_at'>;

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
