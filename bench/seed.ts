/**
 * Writes the benchmark's data with the dialects' bulk writer: a few tens of thousands of rows per
 * transaction, bound straight into cached statements (SQLite) or sent as column arrays (PostgreSQL).
 */
import { sql } from 'kysely';
import type { DatabaseDialect } from '../src/database/database.js';
import type { BulkColumnType } from '../src/database/dialects/bulk-writer.js';
import { seedChannel, seedMessages, seedUsers } from './seed-data.js';

const text = 'text' as const;
const bigint = 'bigint' as const;
const integer = 'integer' as const;

const userColumns = {
  app_id: integer,
  id: text,
  role: text,
  custom: text,
  teams: text,
  banned: integer,
  created_at: bigint,
  updated_at: bigint,
  deleted_at: bigint,
  deactivated_at: bigint,
} satisfies Record<string, BulkColumnType>;

const channelColumns = {
  app_id: integer,
  cid: text,
  type: text,
  id: text,
  created_by_id: text,
  custom: text,
  member_count: integer,
  frozen: integer,
  disabled: integer,
  created_at: bigint,
  updated_at: bigint,
  deleted_at: bigint,
  truncated_at: bigint,
  truncated_by_id: text,
  last_message_at: bigint,
} satisfies Record<string, BulkColumnType>;

const memberColumns = {
  app_id: integer,
  cid: text,
  user_id: text,
  channel_role: text,
  created_at: bigint,
  updated_at: bigint,
} satisfies Record<string, BulkColumnType>;

const messageColumns = {
  app_id: integer,
  id: text,
  cid: text,
  user_id: text,
  type: text,
  text: text,
  html: text,
  parent_id: text,
  show_in_channel: integer,
  quoted_message_id: text,
  attachments: text,
  mentioned_users: text,
  custom: text,
  reply_count: integer,
  reaction_counts: text,
  reaction_scores: text,
  pinned: integer,
  silent: integer,
  created_at: bigint,
  updated_at: bigint,
  deleted_at: bigint,
} satisfies Record<string, BulkColumnType>;

const reactionColumns = {
  app_id: integer,
  message_id: text,
  user_id: text,
  type: text,
  score: integer,
  custom: text,
  created_at: bigint,
  updated_at: bigint,
} satisfies Record<string, BulkColumnType>;

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
    await writer.upsert({ table: 'users', columns: userColumns, key: ['app_id', 'id'], rows: users });
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
      await writer.upsert({
        table: 'channels',
        columns: channelColumns,
        key: ['app_id', 'cid'],
        rows: [channel],
      });
      await writer.upsert({
        table: 'members',
        columns: memberColumns,
        key: ['app_id', 'cid', 'user_id'],
        rows: members,
      });
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
        await writer.upsert({
          table: 'messages',
          columns: messageColumns,
          key: ['app_id', 'id'],
          rows: batch.messages,
        });
        await writer.upsert({
          table: 'reactions',
          columns: reactionColumns,
          key: ['app_id', 'message_id', 'user_id', 'type'],
          rows: batch.reactions,
        });
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
