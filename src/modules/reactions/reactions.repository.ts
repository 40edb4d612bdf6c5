import type { Kysely } from 'kysely';
import type { Database, ReactionRow } from '../../database/database.types.js';
import { chunk, lookupBatches, unique } from '../../lib/ids.js';
import { lockMessageKeys } from '../messages/messages.repository.js';
import {
  encodeReactionSummary,
  type ReactionSummary,
  type StoredReactionSummary,
} from './reactions.summary.js';

export async function findReaction(
  db: Kysely<Database>,
  appId: number,
  key: { messageId: string; userId: string; type: string },
): Promise<ReactionRow | undefined> {
  return db
    .selectFrom('reactions')
    .selectAll()
    .where('app_id', '=', appId)
    .where('message_id', '=', key.messageId)
    .where('user_id', '=', key.userId)
    .where('type', '=', key.type)
    .executeTakeFirst();
}

/** Every reaction on these messages, newest first, grouped by message. */
export async function reactionsByMessage(
  db: Kysely<Database>,
  appId: number,
  messageIds: Iterable<string>,
): Promise<Map<string, ReactionRow[]>> {
  const byMessage = new Map<string, ReactionRow[]>();
  for (const batch of lookupBatches(messageIds, 500)) {
    const rows = await db
      .selectFrom('reactions')
      .selectAll()
      .where('app_id', '=', appId)
      .where('message_id', 'in', batch)
      .orderBy('created_at', 'desc')
      .orderBy('user_id')
      .orderBy('type')
      .execute();
    for (const row of rows) {
      const list = byMessage.get(row.message_id);
      if (list) list.push(row);
      else byMessage.set(row.message_id, [row]);
    }
  }
  return byMessage;
}

/** Inserts the reaction, or replaces score, custom data and updated_at of the stored one. */
export async function upsertReaction(db: Kysely<Database>, row: ReactionRow): Promise<void> {
  await db
    .insertInto('reactions')
    .values(row)
    .onConflict((oc) =>
      oc
        .columns(['app_id', 'message_id', 'user_id', 'type'])
        .doUpdateSet({ score: row.score, custom: row.custom, updated_at: row.updated_at }),
    )
    .execute();
}

/** Removes a user's reactions on a message, all of them or only those `matching` a type test; returns them. */
export async function deleteReactionsOfUserOn(
  db: Kysely<Database>,
  appId: number,
  key: { messageId: string; userId: string },
  matching?: { type: string; equal: boolean },
): Promise<ReactionRow[]> {
  return db
    .deleteFrom('reactions')
    .where('app_id', '=', appId)
    .where('message_id', '=', key.messageId)
    .where('user_id', '=', key.userId)
    .$if(matching !== undefined, (query) => query.where('type', matching!.equal ? '=' : '<>', matching!.type))
    .returningAll()
    .execute();
}

/** Stores a message's reaction summary. */
export async function saveReactionSummary(
  db: Kysely<Database>,
  appId: number,
  messageId: string,
  summary: ReactionSummary,
): Promise<StoredReactionSummary> {
  const stored = encodeReactionSummary(summary);
  await db
    .updateTable('messages')
    .set(stored)
    .where('app_id', '=', appId)
    .where('id', '=', messageId)
    .execute();
  return stored;
}

/**
 * The reaction summaries of these messages, counted from the reactions they hold. Exact only while
 * the caller holds the messages' row locks (lockMessages), taken before this query starts: every
 * writer of reactions takes the lock of their message first.
 */
export async function countReactionSummaries(
  db: Kysely<Database>,
  appId: number,
  messageIds: readonly string[],
): Promise<Map<string, ReactionSummary>> {
  const summaries = new Map<string, ReactionSummary>(messageIds.map((id) => [id, new Map()]));
  for (const batch of chunk(unique(messageIds), 500)) {
    const rows = await db
      .selectFrom('reactions')
      .select(['message_id', 'type'])
      .select((eb) => [eb.fn.countAll<number>().as('count'), eb.fn.sum<number>('score').as('score')])
      .where('app_id', '=', appId)
      .where('message_id', 'in', batch)
      .groupBy(['message_id', 'type'])
      .execute();
    for (const row of rows) {
      summaries.get(row.message_id)!.set(row.type, { count: Number(row.count), score: Number(row.score) });
    }
  }
  return summaries;
}

/** Recounts and stores the reaction summaries of these messages; the caller holds their locks. */
export async function refreshReactionSummaries(
  db: Kysely<Database>,
  appId: number,
  messageIds: readonly string[],
): Promise<void> {
  for (const [id, summary] of await countReactionSummaries(db, appId, messageIds)) {
    await saveReactionSummary(db, appId, id, summary);
  }
}

/**
 * Removes a user's reactions everywhere and recounts the messages they were on. The messages are
 * locked before the reactions go, as every reaction writer locks its message first.
 */
export async function deleteReactionsOfUser(
  db: Kysely<Database>,
  appId: number,
  userId: string,
  rowLocks: boolean,
): Promise<void> {
  const touched = await db
    .selectFrom('reactions')
    .select('message_id')
    .distinct()
    .where('app_id', '=', appId)
    .where('user_id', '=', userId)
    .execute();
  const locked = await lockMessageKeys(
    db,
    appId,
    touched.map((r) => r.message_id),
    rowLocks,
  );
  const ids = locked.map((m) => m.id);
  for (const batch of chunk(ids, 500)) {
    await db
      .deleteFrom('reactions')
      .where('app_id', '=', appId)
      .where('user_id', '=', userId)
      .where('message_id', 'in', batch)
      .execute();
  }
  await refreshReactionSummaries(db, appId, ids);
}
