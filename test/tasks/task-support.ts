import type { Kysely } from 'kysely';
import type { Database, TaskRow } from '../../src/database/database.types.js';
import type { TaskLease } from '../../src/modules/tasks/tasks.types.js';

/** 2024-01-01T00:00:00Z in microseconds: where manual clocks start. */
export const START_MICROS = Date.UTC(2024, 0, 1) * 1000;

export async function readTask(db: Kysely<Database>, id: string): Promise<TaskRow> {
  return db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** The lease a claim handed out, as the worker that holds it would name it. */
export function leaseOf(task: TaskRow): TaskLease {
  if (task.lease_owner === null) throw new Error(`task ${task.id} has no lease`);
  return { id: task.id, attempt: task.attempt, owner: task.lease_owner };
}
