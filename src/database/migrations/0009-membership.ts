import type { Kysely, Migration } from 'kysely';

/**
 * Stream's membership model: a member's custom data, invitation state (`invited`, then
 * `invite_accepted_at` or `invite_rejected_at`), the member's own channel list state (`pinned_at`,
 * `archived_at`, `hidden`) and the time before which the channel's messages are hidden from the
 * member (`hide_history` on add, `clear_history` on hide); and channel mutes, one row per user and
 * channel, with an optional expiry.
 */
export function membershipMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const columns: Array<[string, 'text' | 'integer' | 'bigint', string | number | null]> = [
        ['custom', 'text', '{}'],
        ['invited', 'integer', 0],
        ['invite_accepted_at', 'bigint', null],
        ['invite_rejected_at', 'bigint', null],
        ['pinned_at', 'bigint', null],
        ['archived_at', 'bigint', null],
        ['hidden', 'integer', 0],
        ['hide_messages_before', 'bigint', null],
      ];
      // One column a statement: SQLite's ALTER TABLE adds one at a time.
      for (const [name, type, fallback] of columns) {
        await db.schema
          .alterTable('members')
          .addColumn(name, type, (c) => (fallback === null ? c : c.notNull().defaultTo(fallback)))
          .execute();
      }

      await db.schema
        .createTable('channel_mutes')
        .addColumn('app_id', 'integer', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('cid', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addPrimaryKeyConstraint('channel_mutes_pk', ['app_id', 'user_id', 'cid'])
        .execute();
      await db.schema
        .createIndex('channel_mutes_app_cid')
        .on('channel_mutes')
        .columns(['app_id', 'cid'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('channel_mutes').execute();
      for (const name of [
        'hide_messages_before',
        'hidden',
        'archived_at',
        'pinned_at',
        'invite_rejected_at',
        'invite_accepted_at',
        'invited',
        'custom',
      ]) {
        await db.schema.alterTable('members').dropColumn(name).execute();
      }
    },
  };
}
