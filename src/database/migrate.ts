import { Migrator } from 'kysely';
import type { DatabaseDialect } from './dialects/dialect.js';
import { initialMigration } from './migrations/0001-initial.js';
import { taskFairnessMigration } from './migrations/0004-task-fairness.js';
import { webhooksMigration } from './migrations/0007-webhooks.js';
import { changeTrackingMigration } from './migrations/0008-change-tracking.js';
import { membershipMigration } from './migrations/0009-membership.js';
import { threadReplyOrderMigration } from './migrations/0012-thread-reply-order.js';
import { taskProgressMigration } from './migrations/0013-task-progress.js';
import { truncationOptionsMigration } from './migrations/0014-truncation-options.js';
import { channelMuteChangesMigration } from './migrations/0015-channel-mute-changes.js';
import { memberOrderMigration } from './migrations/0016-member-order.js';

/** Migrations in order. Add new ones at the end; never edit one that has shipped. */
function migrations(dialect: DatabaseDialect) {
  return {
    '0001-initial': initialMigration(dialect),
    '0004-task-fairness': taskFairnessMigration(),
    '0007-webhooks': webhooksMigration(),
    '0008-change-tracking': changeTrackingMigration(dialect),
    '0009-membership': membershipMigration(),
    '0012-thread-reply-order': threadReplyOrderMigration(),
    '0013-task-progress': taskProgressMigration(),
    '0014-truncation-options': truncationOptionsMigration(),
    '0015-channel-mute-changes': channelMuteChangesMigration(dialect),
    '0016-member-order': memberOrderMigration(),
  };
}

/** Brings the schema up to date. Safe to run from several processes at once (Kysely's migration lock). */
export async function migrateToLatest(dialect: DatabaseDialect): Promise<string[]> {
  const migrator = new Migrator({
    db: dialect.db,
    provider: { getMigrations: async () => migrations(dialect) },
    migrationTableName: 'chatport_migrations',
    migrationLockTableName: 'chatport_migrations_lock',
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
