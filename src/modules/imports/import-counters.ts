/**
 * Counters a batch may have changed, recomputed from the rows they count inside the import's
 * transaction, for the ids the batch touched: member_count of channels that got members, reply_count
 * of thread parents that got replies, reaction_counts / reaction_scores of messages that got reactions.
 * last_message_at only moves forward, as sending a message moves it: to the newest message the batch
 * shows in the channel when that is later than the stored time.
 */
import type { Kysely } from 'kysely';
import type { BulkWriter } from '../../database/dialects/bulk-writer.js';
import type { Database } from '../../database/database.types.js';
import { chunk } from '../../lib/ids.js';
import { refreshMemberCounts } from '../channels/channels.repository.js';
import { refreshReplyCounts } from '../messages/messages.repository.js';
import type { ImportBatch } from './import-batch.js';
import { lastMessageAtTable, reactionSummaryTable } from './import-tables.js';

const CHUNK = 500;

export async function refreshImportCounters(
  trx: Kysely<Database>,
  writer: BulkWriter,
  appId: number,
  batch: ImportBatch,
): Promise<void> {
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
  const reactedIds = new Set<string>();
  for (const { row } of batch.reactions.values()) reactedIds.add(row.message_id);

  await refreshMemberCounts(trx, appId, memberCids);
  await refreshReplyCounts(trx, appId, parentIds);
  await refreshReactionSummaries(trx, writer, appId, [...reactedIds]);
  await advanceLastMessageAt(trx, writer, appId, newestShown);
}

/**
 * The same summaries as reactions.repository's refreshReactionSummaries (keys in type order), read with
 * one grouped query per few hundred messages and written with the bulk writer instead of one UPDATE a
 * message.
 */
async function refreshReactionSummaries(
  trx: Kysely<Database>,
  writer: BulkWriter,
  appId: number,
  messageIds: string[],
): Promise<void> {
  const summaries = new Map<string, { counts: Record<string, number>; scores: Record<string, number> }>();
  for (const ids of chunk(messageIds, CHUNK)) {
    const rows = await trx
      .selectFrom('reactions')
      .select(['message_id', 'type'])
      .select((eb) => [eb.fn.countAll<number>().as('count'), eb.fn.sum<number>('score').as('score')])
      .where('app_id', '=', appId)
      .where('message_id', 'in', ids)
      .groupBy(['message_id', 'type'])
      .orderBy('message_id')
      .orderBy('type')
      .execute();
    for (const id of ids) summaries.set(id, { counts: {}, scores: {} });
    for (const row of rows) {
      const summary = summaries.get(row.message_id)!;
      summary.counts[row.type] = Number(row.count);
      summary.scores[row.type] = Number(row.score);
    }
  }
  await writer.update({
    ...reactionSummaryTable,
    rows: Array.from(summaries, ([id, summary]) => ({
      app_id: appId,
      id,
      reaction_counts: JSON.stringify(summary.counts),
      reaction_scores: JSON.stringify(summary.scores),
    })),
  });
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
