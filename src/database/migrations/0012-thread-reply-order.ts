import type { Kysely, Migration } from 'kysely';

/**
 * A thread's replies in the order they are paged, (created_at, id): the replies route seeks a page by
 * the row value `(created_at, id) < (anchor's)`, which the index now answers without a sort, at any
 * depth of the thread. Replaces messages_parent, whose columns are a prefix of the new one.
 */
export function threadReplyOrderMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createIndex('messages_parent_time')
        .on('messages')
        .columns(['app_id', 'parent_id', 'created_at', 'id'])
        .execute();
      await db.schema.dropIndex('messages_parent').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema
        .createIndex('messages_parent')
        .on('messages')
        .columns(['app_id', 'parent_id', 'created_at'])
        .execute();
      await db.schema.dropIndex('messages_parent_time').execute();
    },
  };
}
