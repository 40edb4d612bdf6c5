import type { Kysely, Migration } from 'kysely';

/**
 * Indexes for the per-app task cap and the fair claim (tasks.submit.ts, tasks.claim.ts): an app's
 * queued and running tasks are counted by (app_id, status), and when it last had a task started is
 * read by (app_id, started_at), each without visiting the app's finished tasks.
 */
export function taskFairnessMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.createIndex('tasks_app_status').on('tasks').columns(['app_id', 'status']).execute();
      await db.schema
        .createIndex('tasks_app_started')
        .on('tasks')
        .columns(['app_id', 'started_at'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropIndex('tasks_app_started').execute();
      await db.schema.dropIndex('tasks_app_status').execute();
    },
  };
}
