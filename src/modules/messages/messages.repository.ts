import type { Kysely } from 'kysely';
import type { Database, MessageRow, NewMessageRow } from '../../database/database.types.js';
import { chunk, unique } from '../../lib/ids.js';
import { refreshReactionSummaries } from '../reactions/reactions.repository.js';

export async function findMessage(
  db: Kysely<Database>,
  appId: number,
  id: string,
): Promise<MessageRow | undefined> {
  return db
    .selectFrom('messages')
    .selectAll()
    .where('app_id', '=', appId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function findMessagesByIds(
  db: Kysely<Database>,
  appId: number,
  ids: Iterable<string>,
): Promise<Map<string, MessageRow>> {
  const found = new Map<string, MessageRow>();
  for (const batch of chunk(unique(ids), 500)) {
    const rows = await db
      .selectFrom('messages')
      .selectAll()
      .where('app_id', '=', appId)
      .where('id', 'in', batch)
      .execute();
    for (const row of rows) found.set(row.id, row);
  }
  return found;
}

export async function insertMessage(db: Kysely<Database>, row: NewMessageRow): Promise<void> {
  await db.insertInto('messages').values(row).execute();
}

/**
 * The newest `limit` messages a channel shows (top-level messages and replies shown in the channel),
 * older than `idLt` when given, hiding those at or before `hiddenUntil` (truncation). Oldest first.
 */
export async function channelMessagePage(
  db: Kysely<Database>,
  appId: number,
  cid: string,
  options: { limit: number; before?: { createdAt: number; id: string }; hiddenUntil: number | null },
): Promise<MessageRow[]> {
  let query = db
    .selectFrom('messages')
    .selectAll()
    .where('app_id', '=', appId)
    .where('cid', '=', cid)
    .where((eb) => eb.or([eb('parent_id', 'is', null), eb('show_in_channel', '=', 1)]));
  if (options.hiddenUntil !== null) query = query.where('created_at', '>', options.hiddenUntil);
  const before = options.before;
  if (before) {
    query = query.where((eb) =>
      eb.or([
        eb('created_at', '<', before.createdAt),
        eb.and([eb('created_at', '=', before.createdAt), eb('id', '<', before.id)]),
      ]),
    );
  }
  const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(options.limit).execute();
  return rows.reverse();
}

/** Recounts the replies held by these thread parents. */
export async function refreshReplyCounts(
  db: Kysely<Database>,
  appId: number,
  parentIds: Iterable<string>,
): Promise<void> {
  for (const batch of chunk(unique(parentIds), 500)) {
    await db
      .updateTable('messages')
      .set((eb) => ({
        reply_count: eb
          .selectFrom('messages as replies')
          .select(eb.fn.countAll<number>().as('n'))
          .whereRef('replies.app_id', '=', 'messages.app_id')
          .whereRef('replies.parent_id', '=', 'messages.id'),
      }))
      .where('app_id', '=', appId)
      .where('id', 'in', batch)
      .execute();
  }
}

/**
 * Removes messages for good, with their thread replies and every reaction on them, and recounts the
 * replies of surviving parents. Run inside a transaction.
 */
export async function hardDeleteMessages(
  db: Kysely<Database>,
  appId: number,
  ids: Iterable<string>,
): Promise<number> {
  const roots = unique(ids);
  if (roots.length === 0) return 0;
  const parents = new Set<string>();
  const doomed = new Set<string>(roots);
  for (const batch of chunk(roots, 500)) {
    const rows = await db
      .selectFrom('messages')
      .select(['id', 'parent_id'])
      .where('app_id', '=', appId)
      .where((eb) => eb.or([eb('id', 'in', batch), eb('parent_id', 'in', batch)]))
      .execute();
    for (const row of rows) {
      doomed.add(row.id);
      if (row.parent_id) parents.add(row.parent_id);
    }
  }
  let deleted = 0;
  for (const batch of chunk([...doomed], 500)) {
    await db.deleteFrom('reactions').where('app_id', '=', appId).where('message_id', 'in', batch).execute();
    const result = await db
      .deleteFrom('messages')
      .where('app_id', '=', appId)
      .where('id', 'in', batch)
      .executeTakeFirst();
    deleted += Number(result.numDeletedRows);
  }
  const survivors = [...parents].filter((id) => !doomed.has(id));
  await refreshReplyCounts(db, appId, survivors);
  return deleted;
}

/** Removes a user's reactions everywhere and recounts the messages they were on. */
export async function deleteReactionsOfUser(
  db: Kysely<Database>,
  appId: number,
  userId: string,
): Promise<void> {
  const touched = await db
    .selectFrom('reactions')
    .select('message_id')
    .where('app_id', '=', appId)
    .where('user_id', '=', userId)
    .execute();
  await db.deleteFrom('reactions').where('app_id', '=', appId).where('user_id', '=', userId).execute();
  await refreshReactionSummaries(
    db,
    appId,
    touched.map((r) => r.message_id),
  );
}
