import type { Kysely } from 'kysely';
import type { Database } from '../../database/database.types.js';
import type { Clock } from '../../lib/time.js';
import type { TaskLease, TaskOutcome } from './tasks.types.js';
import { updateHeldTask } from './tasks.fence.js';

/**
 * Records a finished attempt: `completed`, its result and, for exports, the published file. Fenced on
 * the attempt and its lease: returns false, changing nothing, when this worker no longer holds it.
 */
export async function completeTask(
  db: Kysely<Database>,
  clock: Clock,
  lease: TaskLease,
  outcome: TaskOutcome,
): Promise<boolean> {
  const now = clock.nowMicros();
  return updateHeldTask(db, lease, {
    status: 'completed',
    result: JSON.stringify(outcome.result),
    error: null,
    // lease_owner stays, to tell which worker finished the task; the expiry goes, so the reaper's
    // index holds only running tasks.
    lease_expires_at: null,
    finished_at: now,
    updated_at: now,
    // A finished task resumes nothing; its last progress stays for operators.
    checkpoint: null,
    ...(outcome.file ? { file_key: outcome.file.key, file_expires_at: outcome.file.expiresAt } : {}),
  });
}
