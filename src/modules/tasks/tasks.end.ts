import type { Kysely } from 'kysely';
import type { Context } from '../../context.js';
import type { Database, TaskRow } from '../../database/database.types.js';
import type { EndedTask, TaskEndHook } from './tasks.types.js';

/**
 * Runs `end`, a fenced write that ends a task of `kind` and returns the ended task when it won (or
 * null when the attempt was no longer held), together with the end hooks watching `kind`: in one
 * write transaction when there are any, so their writes commit with the end or not at all. Returns
 * whether the write won.
 */
export type TaskEnder = (
  kind: string,
  end: (db: Kysely<Database>) => Promise<EndedTask | null>,
) => Promise<boolean>;

/** The TaskEnder for `hooks`; kinds no hook watches end with their single write, as before. */
export function createTaskEnder(context: Context, hooks: readonly TaskEndHook[] = []): TaskEnder {
  const byKind = new Map<string, TaskEndHook[]>();
  for (const hook of hooks) {
    for (const kind of hook.kinds) byKind.set(kind, [...(byKind.get(kind) ?? []), hook]);
  }
  return async (kind, end) => {
    const watching = byKind.get(kind);
    if (!watching) return (await end(context.db)) !== null;
    return context.dialect.writeTransaction(async (trx) => {
      const ended = await end(trx);
      if (ended === null) return false;
      for (const hook of watching) await hook.onEnd({ db: trx, context, task: ended });
      return true;
    });
  };
}

/** The EndedTask of `row`, ended at `finishedAt` (microseconds) with the given status and outcome. */
export function endedTaskOf(
  row: Pick<TaskRow, 'id' | 'app_id' | 'kind' | 'created_at' | 'started_at'>,
  ending: Pick<EndedTask, 'status' | 'result' | 'error'>,
  finishedAt: number,
): EndedTask {
  return {
    id: row.id,
    appId: row.app_id,
    kind: row.kind,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt,
    ...ending,
  };
}
