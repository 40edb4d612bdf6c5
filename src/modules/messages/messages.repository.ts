import type { ExpressionBuilder, Kysely } from 'kysely';
import type { Database, MessageRow, NewMessageRow } from '../../database/database.types.js';
import { chunk, lookupBatches, unique } from '../../lib/ids.js';

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
  for (const batch of lookupBatches(ids, 500)) {
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

/** Inserts the message unless its id is taken; says whether it did. */
export async function insertMessageIfAbsent(db: Kysely<Database>, row: NewMessageRow): Promise<boolean> {
  const result = await db
    .insertInto('messages')
    .values(row)
    .onConflict((oc) => oc.columns(['app_id', 'id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows) === 1;
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
  if (before) query = query.where((eb) => olderThan(eb, before));
  const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(options.limit).execute();
  return rows.reverse();
}

/**
 * `(created_at, id) < (anchor's)` as one row value, which both databases answer as a seek in an index
 * ordered by (…, created_at, id). Spelled `created_at < x or (created_at = x and id < y)` it became a
 * scan of everything older than the anchor (PostgreSQL: a bitmap of the whole channel, then a sort),
 * so a page took longer the more history lay behind it.
 */
function olderThan(eb: ExpressionBuilder<Database, 'messages'>, anchor: { createdAt: number; id: string }) {
  return eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(anchor.createdAt, anchor.id));
}

/** The newest `limit` replies of a thread, older than `before` when given. Oldest first. */
export async function threadReplyPage(
  db: Kysely<Database>,
  appId: number,
  parentId: string,
  options: { limit: number; before?: { createdAt: number; id: string } },
): Promise<MessageRow[]> {
  const before = options.before;
  const rows = await db
    .selectFrom('messages')
    .selectAll()
    .where('app_id', '=', appId)
    .where('parent_id', '=', parentId)
    .$if(before !== undefined, (query) => query.where((eb) => olderThan(eb, before!)))
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(options.limit)
    .execute();
  return rows.reverse();
}

/**
 * The message, locked until the transaction ends (PostgreSQL `FOR UPDATE`): the lock every writer of
 * a message's reactions takes first, so that its reaction summary changes one writer at a time.
 */
export async function lockMessage(
  db: Kysely<Database>,
  appId: number,
  id: string,
  rowLocks: boolean,
): Promise<MessageRow | undefined> {
  return db
    .selectFrom('messages')
    .selectAll()
    .where('app_id', '=', appId)
    .where('id', '=', id)
    .$if(rowLocks, (query) => query.forUpdate())
    .executeTakeFirst();
}

type MessageKey = Pick<MessageRow, 'id' | 'parent_id'>;

/**
 * Locks the stored messages among `ids`, or the replies of the thread parents among them
 * (`repliesOf`), in id order so that two transactions locking overlapping sets queue rather than
 * deadlock. Returns the keys of the rows it locked.
 */
export async function lockMessageKeys(
  db: Kysely<Database>,
  appId: number,
  ids: Iterable<string>,
  rowLocks: boolean,
  repliesOf = false,
): Promise<MessageKey[]> {
  const locked: MessageKey[] = [];
  for (const batch of chunk(unique(ids).sort(), 500)) {
    const rows = await db
      .selectFrom('messages')
      .select(['id', 'parent_id'])
      .where('app_id', '=', appId)
      .where(repliesOf ? 'parent_id' : 'id', 'in', batch)
      .orderBy('id')
      .$if(rowLocks, (query) => query.forUpdate())
      .execute();
    locked.push(...rows);
  }
  return locked;
}

/**
 * Adds each delta to its message's reply_count, in one atomic `reply_count + n` a message: safe beside
 * concurrent writers, since each increments the newest committed count. Returns the rows updated.
 */
export async function adjustReplyCounts(
  db: Kysely<Database>,
  appId: number,
  deltas: ReadonlyMap<string, number>,
): Promise<number> {
  const byDelta = new Map<number, string[]>();
  for (const [id, delta] of deltas) {
    if (delta !== 0) byDelta.set(delta, [...(byDelta.get(delta) ?? []), id]);
  }
  let updated = 0;
  for (const [delta, ids] of byDelta) {
    for (const batch of chunk(ids.sort(), 500)) {
      const result = await db
        .updateTable('messages')
        .set((eb) => ({ reply_count: eb('reply_count', '+', delta) }))
        .where('app_id', '=', appId)
        .where('id', 'in', batch)
        .executeTakeFirst();
      updated += Number(result.numUpdatedRows);
    }
  }
  return updated;
}

/**
 * Recounts the replies of these thread parents (the importer's path). Exact only while the caller
 * holds the parents' row locks, taken before this statement: a recount in an UPDATE counts with the
 * snapshot taken before the UPDATE waited for another writer's lock, and would overwrite that
 * writer's increment.
 */
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
 * Removes messages for good, with their thread replies and every reaction on them, and takes the
 * removed replies off the reply_count of parents that stay. Run inside a transaction.
 *
 * The messages are locked before their replies are looked up: a reply is added by a writer that then
 * updates its parent's reply_count, so once the parents are locked every reply that will ever commit
 * is visible (later writers find their parent gone and roll back). The replies are locked too, so no
 * reaction writer is left in flight when the reactions go.
 */
export async function hardDeleteMessages(
  db: Kysely<Database>,
  appId: number,
  ids: Iterable<string>,
  rowLocks: boolean,
): Promise<number> {
  const roots = await lockMessageKeys(db, appId, ids, rowLocks);
  if (roots.length === 0) return 0;
  const replies = await lockMessageKeys(
    db,
    appId,
    roots.map((r) => r.id),
    rowLocks,
    true,
  );
  const doomed = new Set([...roots, ...replies].map((row) => row.id));
  const survivingParents = new Map<string, number>();
  for (const row of [...roots, ...replies]) {
    if (row.parent_id !== null && !doomed.has(row.parent_id)) {
      survivingParents.set(row.parent_id, (survivingParents.get(row.parent_id) ?? 0) - 1);
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
  await adjustReplyCounts(db, appId, survivingParents);
  return deleted;
}

/**
 * Locks every message of a channel, or only its replies (PostgreSQL only). The rows are locked in the
 * database and only their number comes back, however large the channel.
 */
async function lockChannelMessages(
  db: Kysely<Database>,
  appId: number,
  cid: string,
  repliesOnly: boolean,
): Promise<void> {
  await db
    .selectFrom((eb) =>
      eb
        .selectFrom('messages')
        .select('id')
        .where('app_id', '=', appId)
        .where('cid', '=', cid)
        .$if(repliesOnly, (query) => query.where('parent_id', 'is not', null))
        .forUpdate()
        .as('locked'),
    )
    .select((eb) => eb.fn.countAll().as('count'))
    .execute();
}

/**
 * Removes every message of a channel with its reactions. The caller has locked (or deleted) the
 * channel row, so no new top-level message can commit. On PostgreSQL the messages are then locked,
 * which waits out every writer holding one (a reply writer holds its parent, a reaction writer its
 * message), and then the replies again: those committed meanwhile are the only rows the first pass
 * can have missed, and locking them waits out reaction writers on them. After that nothing in the
 * channel changes but by this transaction.
 */
export async function hardDeleteChannelMessages(
  db: Kysely<Database>,
  appId: number,
  cid: string,
  rowLocks: boolean,
): Promise<void> {
  if (rowLocks) {
    await lockChannelMessages(db, appId, cid, false);
    await lockChannelMessages(db, appId, cid, true);
  }
  await db
    .deleteFrom('reactions')
    .where('app_id', '=', appId)
    .where('message_id', 'in', (eb) =>
      eb.selectFrom('messages').select('id').where('app_id', '=', appId).where('cid', '=', cid),
    )
    .execute();
  await db.deleteFrom('messages').where('app_id', '=', appId).where('cid', '=', cid).execute();
}
