import { sql } from 'kysely';
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
 * Starts the next attempt of up to `limit` due tasks, shared fairly between apps: each becomes
 * `running` under this worker's lease, with `attempt` incremented.
 *
 * Fair share: a due task's turn is its app's running tasks plus its place in its app's queue (oldest
 * `run_after` first), lowest first; equal turns go to the app whose last task started longest ago,
 * then to the oldest task. An app that queued hundreds of tasks thus gets no more workers than an app
 * that queued one, and apps with work take turns for a single free slot. Within an app, tasks start
 * oldest first. The cost is one pass over the due tasks, which the per-app cap bounds.
 *
 * Two claimers never get the same task: PostgreSQL locks the chosen rows and skips rows another
 * claimer holds (`FOR UPDATE SKIP LOCKED`); SQLite takes the database write lock before it reads
 * (`BEGIN IMMEDIATE`), so claims run one at a time.
 */
export async function claimTasks(
  dialect: DatabaseDialect,
  clock: Clock,
  { workerId, leaseMillis, limit }: ClaimTasksOptions,
): Promise<TaskRow[]> {
  if (limit < 1) return [];
  return dialect.writeTransaction(async (trx) => {
    const now = clock.nowMicros();
    const chosen = await trx
      .with('due', (db) =>
        db
          .selectFrom('tasks')
          .select((eb) => [
            'id',
            'app_id',
            eb.fn
              .agg<number>('row_number')
              .over((over) => over.partitionBy('app_id').orderBy('run_after').orderBy('id'))
              .as('place'),
          ])
          .where('status', 'in', claimableStatuses)
          .where('run_after', '<=', now),
      )
      .with('due_apps', (db) =>
        db
          .selectFrom('due')
          .select((eb) => [
            'due.app_id',
            eb
              .selectFrom('tasks')
              .select((inner) => inner.fn.countAll<number>().as('running'))
              .whereRef('tasks.app_id', '=', 'due.app_id')
              .where('tasks.status', '=', 'running')
              .as('running'),
            eb
              .selectFrom('tasks')
              .select((inner) => inner.fn.max('tasks.started_at').as('last_started_at'))
              .whereRef('tasks.app_id', '=', 'due.app_id')
              .as('last_started_at'),
          ])
          .groupBy('due.app_id'),
      )
      .selectFrom('tasks')
      .innerJoin('due', 'due.id', 'tasks.id')
      .innerJoin('due_apps', 'due_apps.app_id', 'tasks.app_id')
      .select('tasks.id')
      // Checked again on the row itself: PostgreSQL re-reads a row it locks, which may have changed.
      .where('tasks.status', 'in', claimableStatuses)
      .where('tasks.run_after', '<=', now)
      .orderBy(sql`due_apps.running + due.place`)
      .orderBy(sql`coalesce(due_apps.last_started_at, 0)`)
      .orderBy('tasks.run_after')
      .orderBy('tasks.id')
      .limit(limit)
      .$if(dialect.rowLocks, (query) => query.forUpdate('tasks').skipLocked())
      .execute();
    if (chosen.length === 0) return [];
    const ids = chosen.map((row) => row.id);
    // The status is checked again so that this update can only ever start a claimable task.
    const claimed = await trx
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
    // RETURNING promises no order: the worker gets them in the order the fair share chose.
    const order = new Map(ids.map((id, index) => [id, index]));
    return claimed.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  });
}
