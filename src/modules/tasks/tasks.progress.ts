import type { Kysely } from 'kysely';
import type { Database } from '../../database/database.types.js';
import type { Clock } from '../../lib/time.js';
import { updateHeldTask } from './tasks.fence.js';
import type { TaskLease, TaskProgressUpdate } from './tasks.types.js';

/**
 * Records how far a running attempt has got: its `progress` (served by the status routes) and, when
 * given, the `checkpoint` the next attempt resumes from, in one fenced write. False, changing
 * nothing, when this worker no longer holds the attempt: the handler must stop, as whatever it does
 * next can no longer be recorded.
 */
export async function saveTaskProgress(
  db: Kysely<Database>,
  clock: Clock,
  lease: TaskLease,
  update: TaskProgressUpdate,
): Promise<boolean> {
  return updateHeldTask(db, lease, {
    progress: JSON.stringify(update.progress),
    ...(update.checkpoint === undefined ? {} : { checkpoint: JSON.stringify(update.checkpoint) }),
    updated_at: clock.nowMicros(),
  });
}
