/**
 * Writes the benchmark's data with the dialects' bulk writer: a few tens of thousands of rows per
 * transaction, bound straight into cached statements (SQLite) or sent as column arrays (PostgreSQL).
 */
import { sql } from 'kysely';
import type { DatabaseDialect } from '../src/database/database.js';
import {
  channelTable,
  memberTable,
  messageTable,
  reactionTable,
  userTable,
} from '../src/modules/imports/import-tables.js';
import { seedChannel, seedMessages, seedUsers } from './seed-data.js';

// The importer's table specs (src/modules/imports/import-tables.ts), plus the columns it derives
// itself and the seed writes directly.
const seededChannelTable = {
  ...channelTable,
  columns: { ...channelTable.columns, member_count: 'integer', last_message_at: 'bigint' },
} as const;

/** Rows per transaction. */
const BATCH_SIZE = 25_000;

export interface SeededChannel {
  cid: string;
  id: string;
  messages: number;
  reactions: number;
}

export async function seedUsersAndChannels(
  dialect: DatabaseDialect,
  appId: number,
  options: { users: number; channels: Array<{ id: string; messages: number; members: number }> },
  onProgress: (done: number) => void = () => {},
): Promise<SeededChannel[]> {
  const at = Date.UTC(2025, 0, 1) * 1000;
  // Seeding need not survive a power cut: SQLite skips its syncs until the data is in (and keeps a
  // larger page cache meanwhile); the settings are the server's own again for everything measured.
  return seeding(dialect, () => seed(dialect, appId, options, at, onProgress));
}

async function seeding<T>(dialect: DatabaseDialect, work: () => Promise<T>): Promise<T> {
  if (dialect.name === 'sqlite') {
    await sql`pragma synchronous = off`.execute(dialect.db);
    await sql`pragma cache_size = -262144`.execute(dialect.db);
  }
  try {
    return await work();
  } finally {
    if (dialect.name === 'sqlite') {
      await sql`pragma synchronous = normal`.execute(dialect.db);
      await sql`pragma cache_size = -65536`.execute(dialect.db);
    }
  }
}

/**
 * A channel of `copies` copies of `source`'s messages and reactions one after the other in time,
 * written by the database itself (one INSERT ... SELECT over the source's rows a copy and table), not
 * through JavaScript: `npm run bench -- --huge`'s ten million messages in minutes. Copy `k` suffixes
 * every id it writes (parents and quotes too) with `-c<k>` and moves every time forward by `k` times
 * the source's span, so each copy is the source's conversation again, as large and as reacted to.
 */
export async function seedCopiedChannel(
  dialect: DatabaseDialect,
  appId: number,
  source: SeededChannel,
  options: { id: string; copies: number; members: number },
  onProgress: (copies: number) => void = () => {},
): Promise<SeededChannel> {
  const at = Date.UTC(2025, 0, 1) * 1000;
  const messages = source.messages * options.copies;
  const { channel, members } = seedChannel(appId, options.id, options.members, messages, at);
  const { db } = dialect;
  return seeding(dialect, async () => {
    await dialect.bulkWriteTransaction(async (_trx, writer) => {
      await writer.upsert({ ...seededChannelTable, rows: [channel] });
      await writer.upsert({ ...memberTable, rows: members });
    });
    const { rows } = await sql<{ first: number | string; last: number | string }>`
      select min(created_at) as first, max(created_at) as last from messages
      where app_id = ${appId} and cid = ${source.cid}`.execute(db);
    const last = Number(rows[0]!.last);
    const span = last - Number(rows[0]!.first) + 1000;
    // SQLite's change-tracking triggers stamp a row whose mark is not the epoch's: written with it
    // (and reactions with their channel), they have nothing to do. PostgreSQL's set both themselves.
    const stamped = dialect.name === 'sqlite';
    const epoch = '(select value from change_epoch where id = 1)';
    const copied = (table: { columns: Record<string, string> }, expressions: Record<string, string>) => {
      const columns = Object.keys(table.columns);
      const values = columns.map((column) => expressions[column] ?? `s.${column}`);
      if (stamped) {
        columns.push('change_mark');
        values.push(epoch);
      }
      return { columns: sql.raw(columns.join(', ')), values: sql.raw(values.join(', ')) };
    };
    for (let k = 0; k < options.copies; k++) {
      const suffix = `-c${k}`;
      const moved = (column: string) => `s.${column} + ${k * span}`;
      const message = copied(messageTable, {
        id: `s.id || '${suffix}'`,
        cid: `'${channel.cid.replaceAll("'", "''")}'`,
        parent_id: `s.parent_id || '${suffix}'`,
        quoted_message_id: `s.quoted_message_id || '${suffix}'`,
        created_at: moved('created_at'),
        updated_at: moved('updated_at'),
        deleted_at: moved('deleted_at'),
      });
      const reaction = copied(reactionTable, {
        message_id: `s.message_id || '${suffix}'`,
        created_at: moved('created_at'),
        updated_at: moved('updated_at'),
      });
      await db.transaction().execute(async (trx) => {
        await sql`insert into messages (${message.columns}) select ${message.values}
          from messages s where s.app_id = ${appId} and s.cid = ${source.cid}`.execute(trx);
        await sql`insert into reactions (${reaction.columns}, cid) select ${reaction.values}, ${channel.cid}
          from reactions s where s.app_id = ${appId} and s.cid = ${source.cid}`.execute(trx);
      });
      onProgress(k + 1);
    }
    await db
      .updateTable('channels')
      .set({ last_message_at: last + (options.copies - 1) * span })
      .where('app_id', '=', appId)
      .where('cid', '=', channel.cid)
      .execute();
    if (dialect.name === 'sqlite') await sql`analyze`.execute(db);
    else await sql`vacuum analyze messages, reactions`.execute(db);
    return {
      cid: channel.cid,
      id: options.id,
      messages,
      reactions: source.reactions * options.copies,
    };
  });
}

async function seed(
  dialect: DatabaseDialect,
  appId: number,
  options: { users: number; channels: Array<{ id: string; messages: number; members: number }> },
  at: number,
  onProgress: (done: number) => void,
): Promise<SeededChannel[]> {
  const users = seedUsers(appId, options.users, at);
  await dialect.bulkWriteTransaction(async (_trx, writer) => {
    await writer.upsert({ ...userTable, rows: users });
  });
  const seeded: SeededChannel[] = [];
  let done = 0;
  for (const [index, spec] of options.channels.entries()) {
    const { channel, members } = seedChannel(
      appId,
      spec.id,
      Math.min(spec.members, options.users),
      spec.messages,
      at,
    );
    let reactions = 0;
    let lastMessageAt: number | null = null;
    await dialect.bulkWriteTransaction(async (_trx, writer) => {
      await writer.upsert({ ...seededChannelTable, rows: [channel] });
      await writer.upsert({ ...memberTable, rows: members });
    });
    const batches = seedMessages({
      appId,
      cid: channel.cid,
      count: spec.messages,
      memberCount: members.length,
      startAt: at + 1_000_000,
      seed: 1000 + index,
      batchSize: BATCH_SIZE,
    });
    for (const batch of batches) {
      await dialect.bulkWriteTransaction(async (_trx, writer) => {
        await writer.upsert({ ...messageTable, rows: batch.messages });
        await writer.upsert({ ...reactionTable, rows: batch.reactions });
      });
      reactions += batch.reactions.length;
      lastMessageAt = batch.messages[batch.messages.length - 1]?.created_at ?? lastMessageAt;
      done += batch.messages.length;
      onProgress(done);
    }
    await dialect.db
      .updateTable('channels')
      .set({ last_message_at: lastMessageAt })
      .where('app_id', '=', appId)
      .where('cid', '=', channel.cid)
      .execute();
    seeded.push({ cid: channel.cid, id: spec.id, messages: spec.messages, reactions });
  }
  // Planner statistics and (PostgreSQL) the visibility map, as autovacuum leaves a database that has
  // been running a while: index-only scans then skip the table.
  if (dialect.name === 'sqlite') {
    await sql`pragma analysis_limit = 1000`.execute(dialect.db);
    await sql`analyze`.execute(dialect.db);
  } else await sql`vacuum analyze`.execute(dialect.db);
  return seeded;
}
