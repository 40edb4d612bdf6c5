/**
 * Counters a batch may have changed, recomputed from the rows they count inside the import's
 * transaction, for the ids the batch touched: member_count of channels that got members, reply_count
 * of thread parents that got replies or lost them (a reply imported again under another parent),
 * reaction_counts / reaction_scores of messages that got reactions. last_message_at only moves
 * forward, as sending a message moves it: to the newest message the batch shows in the channel when
 * that is later than the stored time. Messages the batch inserts as new take their counters from the
 * batch's own lines as they are written, and messages the import inserted without reactions take the
 * summary of the first batch that brings some (countNewMessages, ImportedWithoutReactions): rewriting
 * a row just written, and counting rows the importer has in hand, cost more than the COPY of the rows.
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
import {
  encodeReactionSummary,
  tallyReaction,
  type ReactionSummary,
} from '../reactions/reactions.summary.js';
import type { ImportBatch } from './import-batch.js';
import { KNOWN_LIMIT } from './import-references.js';
import { lastMessageAtTable, reactionSummaryTable } from './import-tables.js';

const CHUNK = 500;

/** What a batch changes counters of, gathered before it is written. */
export interface CounterTargets {
  memberCids: Set<string>;
  parentIds: Set<string>;
  /** Per channel, the newest time of a message the batch shows in it. */
  newestShown: Map<string, number>;
  reactedIds: Set<string>;
  /** The summary of the batch's own reactions, per message they are on. */
  batchSummaries: Map<string, ReactionSummary>;
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
  const batchSummaries = new Map<string, ReactionSummary>();
  for (const { row } of batch.reactions.values()) {
    let summary = batchSummaries.get(row.message_id);
    if (summary === undefined) batchSummaries.set(row.message_id, (summary = new Map()));
    tallyReaction(summary, row, 1);
  }
  return { memberCids, parentIds, newestShown, reactedIds: new Set(batchSummaries.keys()), batchSummaries };
}

/**
 * Messages this import inserted as new and with no reaction yet, up to KNOWN_LIMIT ids: no other
 * transaction sees them before the import commits, so their summary is the one of the reactions a
 * later batch brings, counted in memory instead of in the database. Forgotten past the limit (they
 * are then recounted from the rows, as every other message).
 */
export class ImportedWithoutReactions {
  private readonly ids = new Set<string>();

  add(ids: Iterable<string>): void {
    for (const id of ids) if (this.ids.size < KNOWN_LIMIT) this.ids.add(id);
  }

  /** Whether the message has no stored reaction, and from now on it will have some. */
  take(id: string): boolean {
    return this.ids.delete(id);
  }
}

/** What countNewMessages counted in memory. */
export interface CountedInBatch {
  /** New messages whose counters the batch alone sets. */
  counted: string[];
  /** Those of them without reactions. */
  reactionless: string[];
}

/**
 * Counts in memory the counters of the batch's new messages (those no stored row can hold: not in
 * `maybeStoredMessages`), which only the batch's own lines can feed: a reply or reaction names a
 * message stored or defined on an earlier line, and rows another transaction writes cannot name rows
 * this one has not committed. Their rows then go in with their counters (reply_count, the reaction
 * summary) and leave the recount's targets: no UPDATE rewrites a row just written. If the rows end
 * upserted after all, restoreCounterTargets puts them back.
 */
export function countNewMessages(batch: ImportBatch, targets: CounterTargets): CountedInBatch {
  const replies = new Map<string, number>();
  for (const { row } of batch.messages.values()) {
    if (row.parent_id !== null) replies.set(row.parent_id, (replies.get(row.parent_id) ?? 0) + 1);
  }
  const counted: string[] = [];
  const reactionless: string[] = [];
  for (const [id, { row }] of batch.messages) {
    if (batch.maybeStoredMessages.has(id)) continue;
    row.reply_count = replies.get(id) ?? 0;
    const summary = targets.batchSummaries.get(id);
    if (summary !== undefined) Object.assign(row, encodeReactionSummary(summary));
    else reactionless.push(id);
    targets.parentIds.delete(id);
    targets.reactedIds.delete(id);
    counted.push(id);
  }
  return { counted, reactionless };
}

/** Messages counted by countNewMessages that must be recounted after all (a row was stored). */
export function restoreCounterTargets(targets: CounterTargets, { counted }: CountedInBatch): void {
  for (const id of counted) {
    targets.parentIds.add(id);
    if (targets.batchSummaries.has(id)) targets.reactedIds.add(id);
  }
}

export async function refreshImportCounters(
  trx: Kysely<Database>,
  writer: BulkWriter,
  appId: number,
  targets: CounterTargets,
  withoutReactions: ImportedWithoutReactions,
): Promise<void> {
  await refreshMemberCounts(trx, appId, targets.memberCids);
  await refreshReplyCounts(trx, appId, targets.parentIds);
  await refreshReactionSummaries(trx, writer, appId, targets, withoutReactions);
  await advanceLastMessageAt(trx, writer, appId, targets.newestShown);
}

/**
 * Recounts reaction summaries with one grouped query per few hundred messages and writes them with the
 * bulk writer instead of one UPDATE a message. Messages the import inserted without reactions take
 * the batch's summary as it is.
 */
async function refreshReactionSummaries(
  trx: Kysely<Database>,
  writer: BulkWriter,
  appId: number,
  targets: CounterTargets,
  withoutReactions: ImportedWithoutReactions,
): Promise<void> {
  const rows: Array<{ app_id: number; id: string; reaction_counts: string; reaction_scores: string }> = [];
  const recount: string[] = [];
  for (const id of targets.reactedIds) {
    if (withoutReactions.take(id))
      rows.push({ app_id: appId, id, ...encodeReactionSummary(targets.batchSummaries.get(id)!) });
    else recount.push(id);
  }
  for (const ids of chunk(recount, CHUNK)) {
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
