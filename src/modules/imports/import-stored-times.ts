/**
 * A line without `created_at` gets "now" when its row is new, but an existing row keeps the time it was
 * created: so importing the same file twice changes nothing even when the file leaves times out.
 * Export files always carry their times, so this runs only for hand-written lines that do not.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../database/database.types.js';
import { chunk } from '../../lib/ids.js';
import type { ImportBatch } from './import-batch.js';

const LOOKUP_CHUNK = 500;

interface TimedRecord {
  createdAtMissing: boolean;
  updatedAtMissing: boolean;
  row: { created_at: number; updated_at: number };
}

function missingTimes<R extends TimedRecord>(records: Map<string, R>): Map<string, R> {
  const missing = new Map<string, R>();
  for (const [key, record] of records) if (record.createdAtMissing) missing.set(key, record);
  return missing;
}

/** Gives each record the stored created_at found under its key (updated_at follows when also missing). */
function adopt<R extends TimedRecord>(records: Map<string, R>, stored: Iterable<[string, number]>): void {
  for (const [key, createdAt] of stored) {
    const record = records.get(key);
    if (!record) continue;
    record.row.created_at = createdAt;
    if (record.updatedAtMissing) record.row.updated_at = createdAt;
  }
}

/** Lookup values for `records`: the part of each composite key the query filters on. */
function lookupValues<R extends TimedRecord>(records: Map<string, R>, part: (record: R) => string): string[] {
  return [...new Set(Array.from(records.values(), part))];
}

/**
 * Gives the lines without `created_at` the time of the import (the parser leaves it out: it may run on
 * another thread, away from the importer's clock); `updated_at`, and a deleted message's `deleted_at`,
 * follow it when the line has none either.
 */
export function stampImportTime(batch: ImportBatch, now: () => number): void {
  const stamp = (record: TimedRecord) => {
    if (!record.createdAtMissing) return;
    record.row.created_at = now();
    if (record.updatedAtMissing) record.row.updated_at = record.row.created_at;
  };
  for (const record of batch.users.values()) stamp(record);
  for (const record of batch.channels.values()) stamp(record);
  for (const record of batch.members.values()) stamp(record);
  for (const record of batch.channelMutes.values()) stamp(record);
  for (const record of batch.messages.values()) {
    stamp(record);
    if (record.deletedAtFollowsUpdate) record.row.deleted_at = record.row.updated_at;
  }
  for (const record of batch.reactions.values()) stamp(record);
}

export async function adoptStoredCreationTimes(
  db: Kysely<Database>,
  appId: number,
  batch: ImportBatch,
): Promise<void> {
  const users = missingTimes(batch.users);
  for (const ids of chunk([...users.keys()], LOOKUP_CHUNK)) {
    const rows = await db
      .selectFrom('users')
      .select(['id', 'created_at'])
      .where('app_id', '=', appId)
      .where('id', 'in', ids)
      .execute();
    adopt(
      users,
      rows.map((r) => [r.id, r.created_at]),
    );
  }

  const channels = missingTimes(batch.channels);
  for (const cids of chunk([...channels.keys()], LOOKUP_CHUNK)) {
    const rows = await db
      .selectFrom('channels')
      .select(['cid', 'created_at'])
      .where('app_id', '=', appId)
      .where('cid', 'in', cids)
      .execute();
    adopt(
      channels,
      rows.map((r) => [r.cid, r.created_at]),
    );
  }

  const members = missingTimes(batch.members);
  for (const cids of chunk(
    lookupValues(members, (m) => m.row.cid),
    LOOKUP_CHUNK,
  )) {
    const rows = await db
      .selectFrom('members')
      .select(['cid', 'user_id', 'created_at'])
      .where('app_id', '=', appId)
      .where('cid', 'in', cids)
      .execute();
    adopt(
      members,
      rows.map((r) => [`${r.cid}\n${r.user_id}`, r.created_at]),
    );
  }

  const mutes = missingTimes(batch.channelMutes);
  for (const cids of chunk(
    lookupValues(mutes, (m) => m.row.cid),
    LOOKUP_CHUNK,
  )) {
    const rows = await db
      .selectFrom('channel_mutes')
      .select(['cid', 'user_id', 'created_at'])
      .where('app_id', '=', appId)
      .where('cid', 'in', cids)
      .execute();
    adopt(
      mutes,
      rows.map((r) => [`${r.cid}\n${r.user_id}`, r.created_at]),
    );
  }

  const messages = missingTimes(batch.messages);
  for (const ids of chunk([...messages.keys()], LOOKUP_CHUNK)) {
    const rows = await db
      .selectFrom('messages')
      .select(['id', 'created_at'])
      .where('app_id', '=', appId)
      .where('id', 'in', ids)
      .execute();
    adopt(
      messages,
      rows.map((r) => [r.id, r.created_at]),
    );
  }
  for (const record of messages.values()) {
    if (record.deletedAtFollowsUpdate) record.row.deleted_at = record.row.updated_at;
  }

  const reactions = missingTimes(batch.reactions);
  for (const ids of chunk(
    lookupValues(reactions, (r) => r.row.message_id),
    LOOKUP_CHUNK,
  )) {
    const rows = await db
      .selectFrom('reactions')
      .select(['message_id', 'user_id', 'type', 'created_at'])
      .where('app_id', '=', appId)
      .where('message_id', 'in', ids)
      .execute();
    adopt(
      reactions,
      rows.map((r) => [`${r.message_id}\n${r.user_id}\n${r.type}`, r.created_at]),
    );
  }
}
