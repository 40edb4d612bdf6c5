import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, TaskRow } from '../../database/database.types.js';
import type { Clock } from '../../lib/time.js';
import { notifyTaskWorkers } from './tasks.notify.js';
import { DEFAULT_MAX_ATTEMPTS } from './tasks.types.js';

export interface EnqueueTaskInput {
  appId: number;
  /** Names the handler, e.g. `export-channels`. */
  kind: string;
  /** Any JSON-serialisable value; the handler gets it back parsed. */
  payload: unknown;
  /** Attempts in all, failures and expired leases alike. Default 5. */
  maxAttempts?: number;
  /**
   * Whether the per-app cap counts it: true for what API requests queue (submitTask sets it). Default
   * false: work the server queues itself (a webhook delivery) never keeps an app from queueing.
   */
  capped?: boolean;
}

/**
 * Queues a task as `waiting`, ready to run at once, and wakes this process's workers. `db` may be a
 * transaction, so the task commits together with the change that asked for it; workers are then not
 * woken here: call notifyTaskWorkers() after the commit. No cap applies, and the cap does not count
 * the task unless `capped`: API requests queue through submitTask (tasks.submit.ts), which counts the
 * app's capped tasks first.
 */
export async function enqueueTask(
  db: Kysely<Database>,
  clock: Clock,
  input: EnqueueTaskInput,
): Promise<TaskRow> {
  const row = await insertTask(db, clock, input);
  if (!db.isTransaction) notifyTaskWorkers();
  return row;
}

/** The row enqueueTask adds, without waking anyone. */
export async function insertTask(
  db: Kysely<Database>,
  clock: Clock,
  input: EnqueueTaskInput,
): Promise<TaskRow> {
  const maxAttempts = input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new Error(`maxAttempts must be a positive integer, got ${maxAttempts}`);
  }
  const now = clock.nowMicros();
  return db
    .insertInto('tasks')
    .values({
      id: crypto.randomUUID(),
      app_id: input.appId,
      kind: input.kind,
      status: 'waiting',
      payload: JSON.stringify(input.payload) ?? 'null',
      result: null,
      error: null,
      attempt: 0,
      max_attempts: maxAttempts,
      run_after: now,
      lease_owner: null,
      lease_expires_at: null,
      created_at: now,
      updated_at: now,
      started_at: null,
      finished_at: null,
      file_key: null,
      file_expires_at: null,
      file_deleted_at: null,
      capped: input.capped ? 1 : 0,
      progress: null,
      checkpoint: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}
