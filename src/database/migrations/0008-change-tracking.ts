import { sql, type Kysely, type Migration } from 'kysely';
import type { DatabaseDialect } from '../dialects/dialect.js';

/**
 * Change tracking for incremental exports (modules/exports/export-changes.ts). Every row of messages,
 * reactions and members carries `change_mark`, set by the database itself on every insert and update,
 * and every row deleted from them leaves a `tombstones` row: triggers, so that no write path (the API,
 * truncation, user deletion, the importer's bulk writer, a future one) can forget. Each table has an
 * index on (app_id, cid, change_mark), by which an export finds what changed in a channel without
 * reading the channel. Reactions get `cid` (their message's channel, set by the trigger) for that index.
 *
 * What a mark is differs, and why is the whole point (docs/reliability.md, incremental exports):
 * - SQLite: the value of `change_epoch` when the row was written. An export takes its high-water mark
 *   by incrementing the epoch in a write transaction, which no other writer can overlap: every row
 *   written before holds a mark at most the old value and has committed, every row written after
 *   holds a larger one.
 * - PostgreSQL: the id of the writing transaction (xid8). An export's mark is a snapshot
 *   (pg_current_snapshot): "changed between two marks" is "committed in the second snapshot and not in
 *   the first", so a transaction that took its id before the mark but commits after it falls in the
 *   next window, never in none.
 */
export function changeTrackingMigration(dialect: DatabaseDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      if (dialect.name === 'postgres') await postgresUp(db);
      else await sqliteUp(db);
      for (const table of ['messages', 'reactions', 'members', 'tombstones']) {
        await db.schema
          .createIndex(`${table}_changes`)
          .on(table)
          .columns(
            table === 'tombstones'
              ? ['app_id', 'cid', 'change_mark', 'id']
              : ['app_id', 'cid', 'change_mark'],
          )
          .execute();
      }
      await db.schema.createIndex('tombstones_deleted').on('tombstones').column('deleted_at').execute();
    },
    async down(db: Kysely<unknown>) {
      if (dialect.name === 'postgres') {
        for (const table of ['messages', 'reactions', 'members']) {
          await sql`drop trigger if exists ${sql.raw(`${table}_change`)} on ${sql.table(table)}`.execute(db);
          await sql`drop trigger if exists ${sql.raw(`${table}_tombstone`)} on ${sql.table(table)}`.execute(
            db,
          );
        }
        await sql`drop function if exists chatport_stamp_change, chatport_stamp_reaction,
          chatport_tombstone_message, chatport_tombstone_reaction, chatport_tombstone_member`.execute(db);
      } else {
        for (const table of ['messages', 'reactions', 'members']) {
          for (const suffix of ['insert', 'update', 'tombstone'])
            await sql`drop trigger if exists ${sql.raw(`${table}_change_${suffix}`)}`.execute(db);
        }
        await db.schema.dropTable('change_epoch').execute();
      }
      for (const table of ['messages', 'reactions', 'members']) {
        await db.schema.dropIndex(`${table}_changes`).execute();
        await db.schema.alterTable(table).dropColumn('change_mark').execute();
      }
      await db.schema.alterTable('reactions').dropColumn('cid').execute();
      await db.schema.dropTable('tombstones').execute();
    },
  };
}

/** The tombstones table: one row per message, reaction or member deleted for good. */
async function createTombstones(db: Kysely<unknown>, idType: string, markType: string, markDefault: string) {
  await sql`create table tombstones (
    id ${sql.raw(idType)} primary key,
    app_id integer not null,
    cid text not null,
    entity text not null,
    message_id text,
    user_id text,
    reaction_type text,
    deleted_at bigint not null,
    change_mark ${sql.raw(markType)} not null default ${sql.raw(markDefault)}
  )`.execute(db);
}

async function postgresUp(db: Kysely<unknown>) {
  const now = `(extract(epoch from clock_timestamp()) * 1000000)::bigint`;
  // Rows written before the migration get xid 0: older than any snapshot, so never "changed".
  for (const table of ['messages', 'reactions', 'members'])
    await sql`alter table ${sql.table(table)} add column change_mark xid8 not null default '0'`.execute(db);
  await sql`alter table reactions add column cid text not null default ''`.execute(db);
  await sql`update reactions r set cid = m.cid from messages m
    where m.app_id = r.app_id and m.id = r.message_id`.execute(db);
  await createTombstones(db, 'bigserial', 'xid8', 'pg_current_xact_id()');

  await sql
    .raw(
      `
    create function chatport_stamp_change() returns trigger language plpgsql as $$
    begin
      -- A rewrite that changes nothing (an import of the same file again) is no change.
      if tg_op = 'UPDATE' and new is not distinct from old then
        return new;
      end if;
      new.change_mark := pg_current_xact_id();
      return new;
    end $$;
    create function chatport_stamp_reaction() returns trigger language plpgsql as $$
    begin
      if tg_op = 'UPDATE' and new is not distinct from old then
        return new;
      end if;
      if tg_op = 'INSERT' or new.message_id is distinct from old.message_id then
        new.cid := coalesce((select m.cid from messages m where m.app_id = new.app_id and m.id = new.message_id), '');
      end if;
      new.change_mark := pg_current_xact_id();
      return new;
    end $$;
    create function chatport_tombstone_message() returns trigger language plpgsql as $$
    begin
      insert into tombstones (app_id, cid, entity, message_id, deleted_at)
        select g.app_id, g.cid, 'message', g.id, ${now} from gone g;
      return null;
    end $$;
    create function chatport_tombstone_reaction() returns trigger language plpgsql as $$
    begin
      insert into tombstones (app_id, cid, entity, message_id, user_id, reaction_type, deleted_at)
        select g.app_id, g.cid, 'reaction', g.message_id, g.user_id, g.type, ${now} from gone g;
      return null;
    end $$;
    create function chatport_tombstone_member() returns trigger language plpgsql as $$
    begin
      insert into tombstones (app_id, cid, entity, user_id, deleted_at)
        select g.app_id, g.cid, 'member', g.user_id, ${now} from gone g;
      return null;
    end $$;
    create trigger messages_change before insert or update on messages
      for each row execute function chatport_stamp_change();
    create trigger members_change before insert or update on members
      for each row execute function chatport_stamp_change();
    create trigger reactions_change before insert or update on reactions
      for each row execute function chatport_stamp_reaction();
    create trigger messages_tombstone after delete on messages referencing old table as gone
      for each statement execute function chatport_tombstone_message();
    create trigger reactions_tombstone after delete on reactions referencing old table as gone
      for each statement execute function chatport_tombstone_reaction();
    create trigger members_tombstone after delete on members referencing old table as gone
      for each statement execute function chatport_tombstone_member();
  `,
    )
    .execute(db);
}

async function sqliteUp(db: Kysely<unknown>) {
  await sql`create table change_epoch (id integer primary key check (id = 1), value integer not null)`.execute(
    db,
  );
  await sql`insert into change_epoch (id, value) values (1, 1)`.execute(db);
  for (const table of ['messages', 'reactions', 'members'])
    await sql`alter table ${sql.table(table)} add column change_mark integer not null default 0`.execute(db);
  await sql`alter table reactions add column cid text not null default ''`.execute(db);
  await sql`update reactions set cid = coalesce((select m.cid from messages m
    where m.app_id = reactions.app_id and m.id = reactions.message_id), '')`.execute(db);
  await createTombstones(db, 'integer', 'integer', '0');

  const epoch = '(select value from change_epoch where id = 1)';
  const now = `cast(round((julianday('now') - 2440587.5) * 86400000000) as integer)`;
  // SQLite triggers cannot assign NEW, so an AFTER trigger stamps the row it follows, only when its
  // mark is not the epoch's already (its own update then fires nothing: it sets the mark to the epoch).
  // Unlike PostgreSQL's, it stamps a rewrite that changes nothing too: telling one apart would mean
  // naming every column here, and a column added later and left out would then go unnoticed.
  const keys: Record<string, string> = {
    messages: 'app_id = new.app_id and id = new.id',
    reactions:
      'app_id = new.app_id and message_id = new.message_id and user_id = new.user_id and type = new.type',
    members: 'app_id = new.app_id and cid = new.cid and user_id = new.user_id',
  };
  for (const [table, key] of Object.entries(keys)) {
    const stamp =
      table === 'reactions'
        ? `change_mark = ${epoch}, cid = coalesce((select m.cid from messages m where m.app_id = new.app_id and m.id = new.message_id), '')`
        : `change_mark = ${epoch}`;
    for (const event of ['insert', 'update']) {
      await sql
        .raw(
          `create trigger ${table}_change_${event} after ${event} on ${table}
          when new.change_mark is not ${epoch}
          begin update ${table} set ${stamp} where ${key}; end`,
        )
        .execute(db);
    }
  }
  const tombstones: Record<string, string> = {
    messages: `old.app_id, old.cid, 'message', old.id, null, null`,
    reactions: `old.app_id, old.cid, 'reaction', old.message_id, old.user_id, old.type`,
    members: `old.app_id, old.cid, 'member', null, old.user_id, null`,
  };
  for (const [table, values] of Object.entries(tombstones)) {
    await sql
      .raw(
        `create trigger ${table}_change_tombstone after delete on ${table}
        begin
          insert into tombstones (app_id, cid, entity, message_id, user_id, reaction_type, deleted_at, change_mark)
          values (${values}, ${now}, ${epoch});
        end`,
      )
      .execute(db);
  }
}
