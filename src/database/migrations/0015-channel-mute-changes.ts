import { sql, type Kysely, type Migration } from 'kysely';
import type { DatabaseDialect } from '../dialects/dialect.js';

/**
 * Change tracking for channel mutes, as 0008-change-tracking.ts gives messages, reactions and members:
 * every row of `channel_mutes` carries a `change_mark` the database sets on every insert and update,
 * every row deleted (an unmute, a hard-deleted user or channel) leaves a `channel_mute` tombstone, and
 * an index on (app_id, cid, change_mark) lets an incremental export read a channel's changed mutes
 * without reading its mutes. Mutes written before this migration hold the mark 0 (PostgreSQL: xid 0),
 * older than any cursor: an incremental export carries them once they change again.
 */
export function channelMuteChangesMigration(dialect: DatabaseDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      if (dialect.name === 'postgres') await postgresUp(db);
      else await sqliteUp(db);
      await db.schema
        .createIndex('channel_mutes_changes')
        .on('channel_mutes')
        .columns(['app_id', 'cid', 'change_mark'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      if (dialect.name === 'postgres') {
        await sql`drop trigger if exists channel_mutes_change on channel_mutes`.execute(db);
        await sql`drop trigger if exists channel_mutes_tombstone on channel_mutes`.execute(db);
        await sql`drop function if exists chatport_tombstone_channel_mute`.execute(db);
      } else {
        for (const suffix of ['insert', 'update', 'tombstone'])
          await sql`drop trigger if exists ${sql.raw(`channel_mutes_change_${suffix}`)}`.execute(db);
      }
      await db.schema.dropIndex('channel_mutes_changes').execute();
      await db.schema.alterTable('channel_mutes').dropColumn('change_mark').execute();
    },
  };
}

async function postgresUp(db: Kysely<unknown>) {
  const now = `(extract(epoch from clock_timestamp()) * 1000000)::bigint`;
  await sql`alter table channel_mutes add column change_mark xid8 not null default '0'`.execute(db);
  // chatport_stamp_change (0008) names no column: it stamps any table's row.
  await sql
    .raw(
      `
    create function chatport_tombstone_channel_mute() returns trigger language plpgsql as $$
    begin
      insert into tombstones (app_id, cid, entity, user_id, deleted_at)
        select g.app_id, g.cid, 'channel_mute', g.user_id, ${now} from gone g;
      return null;
    end $$;
    create trigger channel_mutes_change before insert or update on channel_mutes
      for each row execute function chatport_stamp_change();
    create trigger channel_mutes_tombstone after delete on channel_mutes referencing old table as gone
      for each statement execute function chatport_tombstone_channel_mute();
  `,
    )
    .execute(db);
}

async function sqliteUp(db: Kysely<unknown>) {
  await sql`alter table channel_mutes add column change_mark integer not null default 0`.execute(db);
  // The same triggers as 0008 writes for members (see there why an AFTER trigger stamps the row).
  const epoch = '(select value from change_epoch where id = 1)';
  const now = `cast(round((julianday('now') - 2440587.5) * 86400000000) as integer)`;
  const key = 'app_id = new.app_id and user_id = new.user_id and cid = new.cid';
  for (const event of ['insert', 'update']) {
    await sql
      .raw(
        `create trigger channel_mutes_change_${event} after ${event} on channel_mutes
        when new.change_mark is not ${epoch}
        begin update channel_mutes set change_mark = ${epoch} where ${key}; end`,
      )
      .execute(db);
  }
  await sql
    .raw(
      `create trigger channel_mutes_change_tombstone after delete on channel_mutes
      begin
        insert into tombstones (app_id, cid, entity, message_id, user_id, reaction_type, deleted_at, change_mark)
        values (old.app_id, old.cid, 'channel_mute', null, old.user_id, null, ${now}, ${epoch});
      end`,
    )
    .execute(db);
}
