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
  if (dialect.name === 'sqlite') {
    await sql`pragma synchronous = off`.execute(dialect.db);
    await sql`pragma cache_size = -262144`.execute(dialect.db);
  }
  try {
    return await seed(dialect, appId, options, at, onProgress);
  } finally {
    if (dialect.name === 'sqlite') {
      await sql`pragma synchronous = normal`.execute(dialect.db);
      await sql`pragma cache_size = -65536`.execute(dialect.db);
    }
  }
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
