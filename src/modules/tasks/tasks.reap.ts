import type { Kysely } from 'kysely';
import type { Database } from '../../database/database.types.js';
import type { Clock } from '../../lib/time.js';
import { DEFAULT_RETRY_POLICY, nextAttemptAt, type RetryPolicy } from './tasks.retry.js';
import { endedTaskOf, type TaskEnder } from './tasks.end.js';
import type { StoredTaskError } from './tasks.types.js';

export interface ReapResult {
  /** Attempts sent back to `pending` for a retry. */
  retried: number;
  /** Tasks failed with type `lease_expired`, their attempts used up. */
  failed: number;
}

/**
 * Takes back the attempts whose worker stopped renewing its lease (crashed, hung, cut off): each goes
 * to `pending` after the usual backoff, or to `failed` when it was the last attempt. Cheap enough to
 * run often from every worker: it reads the `tasks_lease` index and usually finds nothing.
 */
export async function reapExpiredLeases(
  db: Kysely<Database>,
  clock: Clock,
  {
    policy = DEFAULT_RETRY_POLICY,
    policyOf = () => policy,
    endTask,
    limit = 100,
  }: {
    /** Backoff before the next attempt. Default 1 s doubling up to 5 min. */
    policy?: RetryPolicy;
    /** The backoff of a kind, when kinds have their own. Default: `policy` for every kind. */
    policyOf?: (kind: string) => RetryPolicy;
    /** Fails a task for good together with its kind's end hooks (createTaskEnder). Default: no hooks. */
    endTask?: TaskEnder;
    limit?: number;
  } = {},
): Promise<ReapResult> {
  const now = clock.nowMicros();
  const expired = await db
    .selectFrom('tasks')
    .select(['id', 'app_id', 'kind', 'attempt', 'max_attempts', 'lease_owner', 'created_at', 'started_at'])
    .where('status', '=', 'running')
    .where('lease_expires_at', '<', now)
    .orderBy('lease_expires_at')
    .limit(limit)
    .execute();
  const reaped: ReapResult = { retried: 0, failed: 0 };
  for (const task of expired) {
    const owner = task.lease_owner;
    const retryAt = nextAttemptAt({
      attempt: task.attempt,
      maxAttempts: task.max_attempts,
      retryable: true,
      nowMicros: now,
      policy: policyOf(task.kind),
    });
    const error: StoredTaskError = {
      type: 'lease_expired',
      description: `the worker running attempt ${task.attempt} stopped renewing its lease`,
    };
    // Fenced like a worker's own writes, and on the expiry too: a heartbeat that renewed the lease
    // since the read above, or another reaper that got here first, wins.
    const takeBack = async (write: Kysely<Database>) => {
      const result = await write
        .updateTable('tasks')
        .set({
          status: retryAt === null ? 'failed' : 'pending',
          error: JSON.stringify(error),
          lease_expires_at: null,
          run_after: retryAt ?? now,
          updated_at: now,
          ...(retryAt === null ? { finished_at: now } : {}),
        })
        .where('id', '=', task.id)
        .where('attempt', '=', task.attempt)
        .where('status', '=', 'running')
        .where((eb) => (owner === null ? eb('lease_owner', 'is', null) : eb('lease_owner', '=', owner)))
        .where('lease_expires_at', '<', now)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    };
    const { type, description } = error;
    const won =
      retryAt === null && endTask
        ? await endTask(task.kind, async (write) =>
            (await takeBack(write))
              ? endedTaskOf(task, { status: 'failed', error: { type, description } }, now)
              : null,
          )
        : await takeBack(db);
    if (won) {
      if (retryAt === null) reaped.failed += 1;
      else reaped.retried += 1;
    }
  }
  return reaped;
}
