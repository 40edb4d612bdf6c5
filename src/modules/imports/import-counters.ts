/**
 * Counters a batch may have changed, recomputed from the rows they count inside the import's
 * transaction, for the ids the batch touched: member_count of channels that got members, reply_count
 * of thread parents that got replies or lost them (a reply imported again under another parent),
 * reaction_counts / reaction_scores of messages that got reactions. last_message_at only moves
 * forward, as sending a message moves it: to the newest message the batch shows in the channel when
 * that is later than the stored time.
 *
 * API requests may write the same rows meanwhile (PostgreSQL). Every row recounted here is locked
 * before its recount starts, so the recount sees each API writer that held it before, and those after
 * it wait for the commit: rows the import wrote are locked by the write, and stored rows the lines
 * name are locked when the references are resolved (import-stored-references.ts).
 */
import type { Kysely } from 'kysely';
import type { BulkWriter } from '../../database/dialects/bulk-writer.js';
import type { Database } from '../../database/database.types.js';
import { chunk } from '../../lib/ids.js';
import { refreshMemberCounts } from '../channels/channels.repository.js';
import { lockMessageKeys, refreshReplyCounts } from '../messages/messages.repository.js';
import { countReactionSummaries } from '../reactions/reactions.repository.js';
import { encodeReactionSummary } from '../reactions/reactions.summary.js';
import type { ImportBatch } from './import-batch.js';
import { lastMessageAtTable, reactionSummaryTable } from './import-tables.js';

const CHUNK = 500;

/** What a batch changes counters of, gathered before it is written. */
export interface CounterTargets {
  memberCids: Set<string>;
  parentIds: Set<string>;
  /** Per channel, the newest time of a message the batch shows in it. */
  newestShown: Map<string, number>;
  reactedIds: Set<string>;
}

/**
 * Gathers what the batch's counters depend on. Runs before the batch is written: the thread a reply
 * was stored in is only known before its line replaces it.
 */
export async function prepareImportCounters(
  trx: Kysely<Database>,
  appId: number,
  batch: ImportBatch,
  rowLocks: boolean,
): Promise<CounterTargets> {
  const memberCids = new Set<string>();
  for (const { row } of batch.members.values()) memberCids.add(row.cid);
  const parentIds = new Set<string>();
  const newestShown = new Map<string, number>();
  for (const { row } of batch.messages.values()) {
    if (row.parent_id !== null) parentIds.add(row.parent_id);
    if (row.parent_id !== null && row.show_in_channel !== 1) continue;
    const newest = newestShown.get(row.cid);
    if (newest === undefined || row.created_at > newest) newestShown.set(row.cid, row.created_at);
  }
  const formerParents: string[] = [];
  for (const ids of chunk([...batch.maybeStoredMessages], CHUNK)) {
    const stored = await trx
      .selectFrom('messages')
      .select(['id', 'parent_id'])
      .where('app_id', '=', appId)
      .where('id', 'in', ids)
      .where('parent_id', 'is not', null)
      .execute();
    for (const { id, parent_id } of stored) {
      if (parent_id !== batch.messages.get(id)!.row.parent_id) formerParents.push(parent_id!);
    }
  }
  // A former parent is named by no line, so nothing has locked it yet.
  await lockMessageKeys(trx, appId, formerParents, rowLocks);
  for (const id of formerParents) parentIds.add(id);
  const reactedIds = new Set<string>();
  for (const { row } of batch.reactions.values()) reactedIds.add(row.message_id);
  return { memberCids, parentIds, newestShown, reactedIds };
}

export async function refreshImportCounters(
  trx: Kysely<Database>,
  writer: BulkWriter,
  appId: number,
  targets: CounterTargets,
): Promise<void> {
  await refreshMemberCounts(trx, appId, targets.memberCids);
  await refreshReplyCounts(trx, appId, targets.parentIds);
  await refreshReactionSummaries(trx, writer, appId, [...targets.reactedIds]);
  await advanceLastMessageAt(trx, writer, appId, targets.newestShown);
}

/**
 * Recounts reaction summaries with one grouped query per few hundred messages and writes them with the
 * bulk writer instead of one UPDATE a message.
 */
async function refreshReactionSummaries(
  trx: Kysely<Database>,
  writer: BulkWriter,
  appId: number,
  messageIds: string[],
): Promise<void> {
  const rows: Array<{ app_id: number; id: string; reaction_counts: string; reaction_scores: string }> = [];
  for (const ids of chunk(messageIds, CHUNK)) {
    for (const [id, summary] of await countReactionSummaries(trx, appId, ids)) {
      rows.push({ app_id: appId, id, ...encodeReactionSummary(summary) });
    }
  }
  await writer.update({ ...reactionSummaryTable, rows });
}

/**
 * Read, compare, then write the channels that move: one bulk statement, where a conditional UPDATE per
 * channel would cost a query each, and a correlated max() per channel depends on the planner knowing
 * the table (PostgreSQL has no statistics yet for a table a large import is still filling).
 */
async function advanceLastMessageAt(
  trx: Kysely<Database>,
  writer: BulkWriter,
  appId: number,
  newestShown: Map<string, number>,
): Promise<void> {
  const moved: Array<{ app_id: number; cid: string; last_message_at: number }> = [];
  for (const cids of chunk([...newestShown.keys()], CHUNK)) {
    const rows = await trx
      .selectFrom('channels')
      .select(['cid', 'last_message_at'])
      .where('app_id', '=', appId)
      .where('cid', 'in', cids)
      .execute();
    for (const row of rows) {
      const newest = newestShown.get(row.cid)!;
      if (row.last_message_at === null || row.last_message_at < newest) {
        moved.push({ app_id: appId, cid: row.cid, last_message_at: newest });
      }
    }
  }
  await writer.update({ ...lastMessageAtTable, rows: moved });
}
