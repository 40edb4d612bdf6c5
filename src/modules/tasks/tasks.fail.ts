import type { Kysely } from 'kysely';
import type { Database } from '../../database/database.types.js';
import type { Clock } from '../../lib/time.js';
import type { StoredTaskError, TaskLease } from './tasks.types.js';
import { updateHeldTask } from './tasks.fence.js';

export interface TaskFailure {
  error: StoredTaskError;
  /** When the next attempt may start (the task becomes `pending`), or null to fail it for good. */
  retryAt: number | null;
}

/**
 * Records a failed attempt: `pending` until `retryAt`, or `failed` when `retryAt` is null (see
 * nextAttemptAt in tasks.retry.ts). Fenced on the attempt and its lease like completeTask: returns
 * false, changing nothing, when this worker no longer holds it.
 */
export async function failTask(
  db: Kysely<Database>,
  clock: Clock,
  lease: TaskLease,
  failure: TaskFailure,
): Promise<boolean> {
  const now = clock.nowMicros();
  const final = failure.retryAt === null;
  return updateHeldTask(db, lease, {
    status: final ? 'failed' : 'pending',
    // A pending task keeps its last error for operators; clients see it only once the task failed.
    error: JSON.stringify(failure.error),
    lease_expires_at: null,
    run_after: failure.retryAt ?? now,
    updated_at: now,
    ...(final ? { finished_at: now } : {}),
  });
}
