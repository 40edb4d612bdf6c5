import type { Kysely } from 'kysely';
import type { Database, MessageRow } from '../../src/database/database.types.js';
import { chunk } from '../../src/lib/ids.js';
import { refreshReactionSummaries } from '../../src/modules/reactions/reactions.repository.js';

/**
 * Inserts plain messages straight into the database, in batched transactions: for tests that need
 * thousands of rows (limits, large exports) where going through the HTTP API would only be slow.
 */
export async function insertMessages(
  db: Kysely<Database>,
  appId: number,
  cid: string,
  count: number,
  /** `perMicrosecond` messages share each timestamp (default 1), so keyset pages meet ties. */
  options: { userId: string; idPrefix: string; startMicros: number; perMicrosecond?: number },
): Promise<string[]> {
  const tick = (i: number) => options.startMicros + Math.floor(i / (options.perMicrosecond ?? 1));
  const ids: string[] = [];
  const rows: MessageRow[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${options.idPrefix}-${String(i).padStart(7, '0')}`;
    ids.push(id);
    rows.push({
      app_id: appId,
      id,
      cid,
      user_id: options.userId,
      type: 'regular',
      text: `seeded message ${i}`,
      html: `<p>seeded message ${i}</p>\n`,
      parent_id: null,
      show_in_channel: 0,
      quoted_message_id: null,
      attachments: '[]',
      mentioned_users: '[]',
      custom: '{}',
      reply_count: 0,
      reaction_counts: '{}',
      reaction_scores: '{}',
      pinned: 0,
      silent: 0,
      created_at: tick(i),
      updated_at: tick(i),
      deleted_at: null,
    });
  }
  await db.transaction().execute(async (trx) => {
    for (const batch of chunk(rows, 500)) await trx.insertInto('messages').values(batch).execute();
  });
  return ids;
}

/** Inserts one reaction of `userId` on each of these messages, and recounts their summaries. */
export async function insertReactions(
  db: Kysely<Database>,
  appId: number,
  messageIds: string[],
  options: { userId: string; type: string; startMicros: number },
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (const batch of chunk(messageIds, 500)) {
      await trx
        .insertInto('reactions')
        .values(
          batch.map((messageId, i) => ({
            app_id: appId,
            message_id: messageId,
            user_id: options.userId,
            type: options.type,
            score: 1,
            custom: '{}',
            created_at: options.startMicros + i,
            updated_at: options.startMicros + i,
          })),
        )
        .execute();
    }
    await refreshReactionSummaries(trx, appId, messageIds);
  });
}
