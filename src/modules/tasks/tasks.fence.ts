import type { Kysely, Updateable } from 'kysely';
import type { Database, TasksTable } from '../../database/database.types.js';
import type { TaskLease } from './tasks.types.js';

/**
 * Updates a task only while `lease` still holds it: the same attempt, still running, still leased to
 * this worker. True when the row changed; false, changing nothing, when the attempt was reaped,
 * finished, or taken over. Every write a worker makes about its attempt goes through this fence.
 */
export async function updateHeldTask(
  db: Kysely<Database>,
  lease: TaskLease,
  changes: Updateable<TasksTable>,
): Promise<boolean> {
  const result = await db
    .updateTable('tasks')
    .set(changes)
    .where('id', '=', lease.id)
    .where('attempt', '=', lease.attempt)
    .where('status', '=', 'running')
    .where('lease_owner', '=', lease.owner)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
