import type { Kysely, Migration } from 'kysely';

/**
 * A channel's members in the order a channel state pages them, (created_at, user_id): a page of the
 * first 100 members reads 100 index entries instead of sorting every member of the channel.
 */
export function memberOrderMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createIndex('members_channel_order')
        .on('members')
        .columns(['app_id', 'cid', 'created_at', 'user_id'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropIndex('members_channel_order').execute();
    },
  };
}
