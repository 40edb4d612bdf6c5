import type { Kysely } from 'kysely';
import type { Context } from '../../context.js';
import type { Database, TaskRow } from '../../database/database.types.js';
import { insertTask } from './tasks.enqueue.js';
import { taskCapReached } from './tasks.errors.js';
import { notifyTaskWorkers } from './tasks.notify.js';
import { activeStatuses, type TaskKind } from './tasks.types.js';

export interface SubmitTaskInput<Payload> {
  appId: number;
  /** What the kind's handler gets, parsed by the kind's parsePayload before every attempt. */
  payload: Payload;
  /** Attempts in all, failures and expired leases alike. Default 5. */
  maxAttempts?: number;
}

/** How many of an app's tasks that API requests queued are queued or running: what the cap counts. */
export async function countActiveTasks(db: Kysely<Database>, appId: number): Promise<number> {
  const { count } = await db
    .selectFrom('tasks')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('app_id', '=', appId)
    .where('status', 'in', activeStatuses)
    .where('capped', '=', 1)
    .executeTakeFirstOrThrow();
  return Number(count);
}

/**
 * Queues a task of `kind` for an app, as an API request asks, and wakes this process's workers.
 * Refused with 429 code 9 and a `Retry-After` when the app already has `config.maxTasksPerApp` tasks
 * queued or running (CHATPORT_MAX_TASKS_PER_APP, default 100; 0 for no cap), so one app cannot fill
 * the queue. The count and the insert share a transaction that holds the app's row lock (PostgreSQL)
 * or the database's write lock (SQLite): concurrent requests can never queue past the cap.
 */
export async function submitTask<Payload>(
  context: Pick<Context, 'dialect' | 'clock' | 'config'>,
  kind: TaskKind<Payload>,
  input: SubmitTaskInput<Payload>,
): Promise<TaskRow> {
  const { dialect, clock, config } = context;
  const cap = config.maxTasksPerApp;
  const row = await dialect.writeTransaction(async (trx) => {
    if (cap > 0) {
      // Requests of one app queue behind each other here; other apps' requests do not wait.
      await trx
        .selectFrom('apps')
        .select('id')
        .where('id', '=', input.appId)
        .$if(dialect.rowLocks, (query) => query.forUpdate())
        .execute();
      if ((await countActiveTasks(trx, input.appId)) >= cap) throw taskCapReached(cap);
    }
    return insertTask(trx, clock, {
      appId: input.appId,
      kind: kind.kind,
      payload: input.payload,
      maxAttempts: input.maxAttempts,
      capped: true,
    });
  });
  notifyTaskWorkers();
  return row;
}
