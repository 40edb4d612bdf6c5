import type { Kysely, Migration } from 'kysely';

/**
 * A running task's `progress` (JSON its kind writes now and then, served by the status routes) and
 * `checkpoint` (JSON its kind writes with it and reads back on the next attempt, to resume where a
 * dead worker left off). The queue stores both without reading them: their fields belong to the kind.
 */
export function taskProgressMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('tasks').addColumn('progress', 'text').execute();
      await db.schema.alterTable('tasks').addColumn('checkpoint', 'text').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('tasks').dropColumn('checkpoint').execute();
      await db.schema.alterTable('tasks').dropColumn('progress').execute();
    },
  };
}
