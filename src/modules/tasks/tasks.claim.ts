import type { DatabaseDialect } from '../../database/database.js';
import type { TaskRow } from '../../database/database.types.js';
import { MICROS_PER_MILLI, type Clock } from '../../lib/time.js';
import { claimableStatuses } from './tasks.types.js';

export interface ClaimTasksOptions {
  /** The worker id written to `lease_owner`. */
  workerId: string;
  /** How long the lease lasts before the reaper may take the attempt back, in milliseconds. */
  leaseMillis: number;
  /** Most tasks to claim at once (the worker's free slots). */
  limit: number;
}

/**
 * Starts the next attempt of up to `limit` due tasks, oldest `run_after` first: each becomes `running`
 * under this worker's lease, with `attempt` incremented. Two claimers never get the same task:
 * PostgreSQL locks the chosen rows and skips rows another claimer holds (`FOR UPDATE SKIP LOCKED`);
 * SQLite takes the database write lock before it reads (`BEGIN IMMEDIATE`), so claims run one at a time.
 */
export async function claimTasks(
  dialect: DatabaseDialect,
  clock: Clock,
  { workerId, leaseMillis, limit }: ClaimTasksOptions,
): Promise<TaskRow[]> {
  if (limit < 1) return [];
  const claimed = await dialect.writeTransaction(async (trx) => {
    const now = clock.nowMicros();
    const due = await trx
      .selectFrom('tasks')
      .select('id')
      .where('status', 'in', claimableStatuses)
      .where('run_after', '<=', now)
      .orderBy('run_after')
      .orderBy('id')
      .limit(limit)
      .$if(dialect.skipLockedSuffix, (query) => query.forUpdate().skipLocked())
      .execute();
    if (due.length === 0) return [];
    const ids = due.map((row) => row.id);
    // The status is checked again so that this update can only ever start a claimable task.
    return trx
      .updateTable('tasks')
      .set((eb) => ({
        status: 'running',
        attempt: eb('attempt', '+', 1),
        lease_owner: workerId,
        lease_expires_at: now + Math.round(leaseMillis * MICROS_PER_MILLI),
        started_at: now,
        updated_at: now,
      }))
      .where('id', 'in', ids)
      .where('status', 'in', claimableStatuses)
      .returningAll()
      .execute();
  });
  // RETURNING promises no order.
  return claimed.sort((a, b) => a.run_after - b.run_after || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
