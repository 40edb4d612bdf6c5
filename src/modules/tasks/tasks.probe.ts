import type { Kysely } from 'kysely';
import type { Database } from '../../database/database.types.js';
import type { Clock } from '../../lib/time.js';
import { claimableStatuses } from './tasks.types.js';

/**
 * Whether any task is due to start: a read of the tasks_claimable index that takes no lock, so a
 * worker can look often for tasks other processes queued, and claim (which on SQLite takes the
 * database's write lock) only when there is one.
 */
export async function hasDueTasks(db: Kysely<Database>, clock: Clock): Promise<boolean> {
  const due = await db
    .selectFrom('tasks')
    .select('id')
    .where('status', 'in', claimableStatuses)
    .where('run_after', '<=', clock.nowMicros())
    .limit(1)
    .executeTakeFirst();
  return due !== undefined;
}
