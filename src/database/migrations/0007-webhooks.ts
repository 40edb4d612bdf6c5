import type { Kysely, Migration } from 'kysely';

/**
 * Export webhooks: an app's webhook settings (`webhook_url`, `webhook_events`) and event hooks as
 * `PATCH /app` stores them, one row per event announced to one target (`webhook_deliveries`, sent by a
 * `webhook-delivery` task), and one row per attempt to send it. `tasks.capped` tells the tasks an API
 * request queued (counted by the per-app cap) from those the server queues itself (deliveries), so a
 * receiver that is down never keeps an app from queueing exports.
 */
export function webhooksMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // Every task queued so far came from an API request.
      await db.schema
        .alterTable('tasks')
        .addColumn('capped', 'integer', (c) => c.notNull().defaultTo(1))
        .execute();

      await db.schema
        .createTable('app_settings')
        .addColumn('app_id', 'integer', (c) => c.primaryKey())
        .addColumn('webhook_url', 'text', (c) => c.notNull())
        .addColumn('webhook_events', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('event_hooks')
        .addColumn('app_id', 'integer', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('hook_type', 'text', (c) => c.notNull())
        .addColumn('webhook_url', 'text', (c) => c.notNull())
        .addColumn('event_types', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('timeout_ms', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('event_hooks_pk', ['app_id', 'id'])
        .execute();

      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('app_id', 'integer', (c) => c.notNull())
        .addColumn('queue_task_id', 'text', (c) => c.notNull())
        .addColumn('task_id', 'text', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('hook_id', 'text')
        .addColumn('webhook_url', 'text', (c) => c.notNull())
        .addColumn('timeout_ms', 'integer', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('webhook_deliveries_app_created')
        .on('webhook_deliveries')
        .columns(['app_id', 'created_at'])
        .execute();
      await db.schema
        .createIndex('webhook_deliveries_app_task')
        .on('webhook_deliveries')
        .columns(['app_id', 'task_id'])
        .execute();

      await db.schema
        .createTable('webhook_attempts')
        .addColumn('delivery_id', 'text', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .addColumn('outcome', 'text')
        .addColumn('response_status', 'integer')
        .addColumn('error', 'text')
        .addPrimaryKeyConstraint('webhook_attempts_pk', ['delivery_id', 'attempt'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      for (const table of ['webhook_attempts', 'webhook_deliveries', 'event_hooks', 'app_settings']) {
        await db.schema.dropTable(table).execute();
      }
      await db.schema.alterTable('tasks').dropColumn('capped').execute();
    },
  };
}
