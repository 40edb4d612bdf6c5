import type { Kysely } from 'kysely';
import type { Database, ReactionRow } from '../../database/database.types.js';
import { chunk, unique } from '../../lib/ids.js';

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
  for (const batch of chunk(unique(messageIds), 500)) {
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

/**
 * Recomputes `reaction_counts` and `reaction_scores` of these messages from the reactions they hold:
 * derived from the source of truth in the same transaction, so the summary can never drift.
 */
export async function refreshReactionSummaries(
  db: Kysely<Database>,
  appId: number,
  messageIds: Iterable<string>,
): Promise<void> {
  for (const batch of chunk(unique(messageIds), 500)) {
    const rows = await db
      .selectFrom('reactions')
      .select(['message_id', 'type'])
      .select((eb) => [eb.fn.countAll<number>().as('count'), eb.fn.sum<number>('score').as('score')])
      .where('app_id', '=', appId)
      .where('message_id', 'in', batch)
      .groupBy(['message_id', 'type'])
      .orderBy('message_id')
      .orderBy('type')
      .execute();
    const summaries = new Map<string, { counts: Record<string, number>; scores: Record<string, number> }>(
      batch.map((id) => [id, { counts: {}, scores: {} }]),
    );
    for (const row of rows) {
      const summary = summaries.get(row.message_id)!;
      summary.counts[row.type] = Number(row.count);
      summary.scores[row.type] = Number(row.score);
    }
    for (const [id, summary] of summaries) {
      await db
        .updateTable('messages')
        .set({
          reaction_counts: JSON.stringify(summary.counts),
          reaction_scores: JSON.stringify(summary.scores),
        })
        .where('app_id', '=', appId)
        .where('id', '=', id)
        .execute();
    }
  }
}
