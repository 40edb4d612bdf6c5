import type { Kysely } from 'kysely';
import type { Database, TaskRow } from '../../database/database.types.js';

/** One app's task by id: a primary-key lookup. Another app's task is as absent as an unknown one. */
export async function findTask(
  db: Kysely<Database>,
  appId: number,
  id: string,
): Promise<TaskRow | undefined> {
  return db
    .selectFrom('tasks')
    .selectAll()
    .where('id', '=', id)
    .where('app_id', '=', appId)
    .executeTakeFirst();
}
