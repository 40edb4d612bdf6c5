import type { Kysely, Migration } from 'kysely';
import { sql } from 'kysely';
import type { DatabaseDialect } from '../dialects/dialect.js';

/** Apps, chat data and the task queue. Times are BIGINT microseconds; JSON is text; flags are integers. */
export function initialMigration(dialect: DatabaseDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('apps')
        .addColumn('id', sql.raw(dialect.serialType), (c) =>
          dialect.name === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey(),
        )
        .addColumn('api_key', 'text', (c) => c.notNull().unique())
        .addColumn('api_secret', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('users')
        .addColumn('app_id', 'integer', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('custom', 'text', (c) => c.notNull())
        .addColumn('teams', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('banned', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('deleted_at', 'bigint')
        .addColumn('deactivated_at', 'bigint')
        .addPrimaryKeyConstraint('users_pk', ['app_id', 'id'])
        .execute();
      await db.schema.createIndex('users_app_role').on('users').columns(['app_id', 'role']).execute();
      await db.schema
        .createIndex('users_app_created')
        .on('users')
        .columns(['app_id', 'created_at'])
        .execute();

      await db.schema
        .createTable('channels')
        .addColumn('app_id', 'integer', (c) => c.notNull())
        .addColumn('cid', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('created_by_id', 'text')
        .addColumn('custom', 'text', (c) => c.notNull())
        .addColumn('member_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('frozen', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('deleted_at', 'bigint')
        .addColumn('truncated_at', 'bigint')
        .addColumn('truncated_by_id', 'text')
        .addColumn('last_message_at', 'bigint')
        .addPrimaryKeyConstraint('channels_pk', ['app_id', 'cid'])
        .execute();
      await db.schema
        .createIndex('channels_app_type_created')
        .on('channels')
        .columns(['app_id', 'type', 'created_at'])
        .execute();

      await db.schema
        .createTable('members')
        .addColumn('app_id', 'integer', (c) => c.notNull())
        .addColumn('cid', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('channel_role', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('members_pk', ['app_id', 'cid', 'user_id'])
        .execute();
      await db.schema.createIndex('members_app_user').on('members').columns(['app_id', 'user_id']).execute();

      await db.schema
        .createTable('messages')
        .addColumn('app_id', 'integer', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('cid', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('html', 'text', (c) => c.notNull())
        .addColumn('parent_id', 'text')
        .addColumn('show_in_channel', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('quoted_message_id', 'text')
        .addColumn('attachments', 'text', (c) => c.notNull())
        .addColumn('mentioned_users', 'text', (c) => c.notNull())
        .addColumn('custom', 'text', (c) => c.notNull())
        .addColumn('reply_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('reaction_counts', 'text', (c) => c.notNull())
        .addColumn('reaction_scores', 'text', (c) => c.notNull())
        .addColumn('pinned', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('silent', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('deleted_at', 'bigint')
        .addPrimaryKeyConstraint('messages_pk', ['app_id', 'id'])
        .execute();
      // The export's hot path: a channel's messages in (created_at, id) order.
      await db.schema
        .createIndex('messages_channel_time')
        .on('messages')
        .columns(['app_id', 'cid', 'created_at', 'id'])
        .execute();
      // User exports: a user's messages in time order.
      await db.schema
        .createIndex('messages_user_time')
        .on('messages')
        .columns(['app_id', 'user_id', 'created_at', 'id'])
        .execute();
      await db.schema
        .createIndex('messages_parent')
        .on('messages')
        .columns(['app_id', 'parent_id', 'created_at'])
        .execute();

      await db.schema
        .createTable('reactions')
        .addColumn('app_id', 'integer', (c) => c.notNull())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('score', 'integer', (c) => c.notNull())
        .addColumn('custom', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('reactions_pk', ['app_id', 'message_id', 'user_id', 'type'])
        .execute();
      await db.schema
        .createIndex('reactions_user_time')
        .on('reactions')
        .columns(['app_id', 'user_id', 'created_at'])
        .execute();

      await db.schema
        .createTable('tasks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('app_id', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('result', 'text')
        .addColumn('error', 'text')
        .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('max_attempts', 'integer', (c) => c.notNull())
        .addColumn('run_after', 'bigint', (c) => c.notNull())
        .addColumn('lease_owner', 'text')
        .addColumn('lease_expires_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint')
        .addColumn('finished_at', 'bigint')
        // The file a completed export published, and when retention deletes it.
        .addColumn('file_key', 'text')
        .addColumn('file_expires_at', 'bigint')
        .addColumn('file_deleted_at', 'bigint')
        .execute();
      await db.schema.createIndex('tasks_claimable').on('tasks').columns(['status', 'run_after']).execute();
      await db.schema
        .createIndex('tasks_lease')
        .on('tasks')
        .columns(['status', 'lease_expires_at'])
        .execute();
      await db.schema.createIndex('tasks_file_expiry').on('tasks').columns(['file_expires_at']).execute();
    },
    async down(db: Kysely<unknown>) {
      for (const table of ['tasks', 'reactions', 'messages', 'members', 'channels', 'users', 'apps']) {
        await db.schema.dropTable(table).execute();
      }
    },
  };
}
