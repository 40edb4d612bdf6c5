import type { Kysely, Migration } from 'kysely';

/**
 * Truncation and delete options: a member's own truncation (`truncate` with `member_ids`: messages
 * created at or before it are hidden from that member alone), and a soft deletion that keeps the
 * channel's history for when it is created again (`skip_truncate`).
 */
export function truncationOptionsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('members').addColumn('truncated_at', 'bigint').execute();
      await db.schema
        .alterTable('channels')
        .addColumn('skip_truncate', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('channels').dropColumn('skip_truncate').execute();
      await db.schema.alterTable('members').dropColumn('truncated_at').execute();
    },
  };
}
