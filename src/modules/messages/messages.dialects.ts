/**
 * The SQL of sends that differs between the databases: storing a batch of top-level messages sent at
 * once in one statement (messages.send-batches.ts). PostgreSQL has it; SQLite has none, and each of
 * its sends runs the transaction: one writer at a time, whose commit waits for no disk flush (WAL with
 * synchronous=NORMAL), leaves a batch nothing to share.
 */
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../../database/database.js';
import type { Database, NewMessageRow, UserRow } from '../../database/database.types.js';
import { unique } from '../../lib/ids.js';

/** A message to store if its users exist and its channel takes it (insertMessagesIntoOpenChannels). */
export interface OpenChannelInsert {
  row: NewMessageRow & { app_id: number; id: string };
  /** The users it names (its author, the users it mentions): all must exist. */
  userIds: readonly string[];
  /** Stored even into a frozen channel. */
  frozenToo: boolean;
  /** Stored only if this user is a member of the channel. */
  member: string | undefined;
}

/** The key insertMessagesIntoOpenChannels answers with: app and message id. */
export const storedMessageKey = (appId: number, id: string) => `${appId}\u0000${id}`;

/**
 * PostgreSQL (a data-modifying WITH): in one statement, reads the users the messages name and
 * inserts each message whose users all exist and whose channel takes it: the channel exists, is not
 * deleted, is not frozen (unless `frozenToo`), and has `member` as a member when one is named. The
 * channel rows are read `FOR KEY SHARE`, held until the statement commits, as storeMessage's
 * transaction holds its channel. Answers with the users found and the keys (storedMessageKey) of the
 * messages inserted; of the others nothing tells why (the caller finds out). Ids taken, in the table
 * or earlier in `inserts`, are skipped.
 */
export async function insertMessagesIntoOpenChannels(
  db: Kysely<Database>,
  inserts: readonly OpenChannelInsert[],
): Promise<{ users: UserRow[]; stored: Set<string> }> {
  if (inserts.length === 0) return { users: [], stored: new Set() };
  // Null columns are left to their default (null). The others are typed: in INSERT ... SELECT a
  // parameter is typed by the SELECT alone, which would make every number text.
  const columns = [
    ...new Set(
      inserts.flatMap(({ row }) =>
        Object.entries(row)
          .filter(([, value]) => value !== null && value !== undefined)
          .map(([column]) => column),
      ),
    ),
  ] as Array<keyof NewMessageRow & string>;
  const typed = (value: unknown) =>
    typeof value === 'number' ? sql`cast(${value} as bigint)` : sql`${value ?? null}`;
  const sent = inserts
    .map(({ row, userIds, frozenToo, member }) =>
      db.selectNoFrom([
        ...columns.map((column) => typed(row[column]).as(column)),
        sql`cast(${unique(userIds)} as text[])`.as('user_ids'),
        typed(frozenToo ? 1 : 0).as('frozen_too'),
        typed(member).as('member'),
      ]),
    )
    .reduce((all, one) => all.unionAll(one));
  const named = new Map<number, Set<string>>();
  for (const { row, userIds } of inserts)
    for (const id of userIds) named.set(row.app_id, (named.get(row.app_id) ?? new Set()).add(id));
  const [result] = await db
    .with('found', (db) =>
      db
        .selectFrom('users')
        .selectAll()
        .where((eb) =>
          eb.or(
            [...named].map(([appId, ids]) => eb.and([eb('app_id', '=', appId), eb('id', 'in', [...ids])])),
          ),
        ),
    )
    .with('stored', (db) =>
      db
        .insertInto('messages')
        .columns(columns)
        .expression(
          db
            .selectFrom(sent.as('sent'))
            .innerJoin('channels', (join) =>
              join
                .onRef('channels.app_id', '=', sql.ref('sent.app_id'))
                .onRef('channels.cid', '=', sql.ref('sent.cid')),
            )
            .select(columns.map((column) => sql.ref(`sent.${column}`).as(column)))
            .where(
              sql<boolean>`(select count(*) from found
                where found.app_id = sent.app_id and found.id = any(sent.user_ids)) = cardinality(sent.user_ids)`,
            )
            .where('channels.deleted_at', 'is', null)
            .where((eb) => eb.or([eb(sql.ref('sent.frozen_too'), '=', 1), eb('channels.frozen', '=', 0)]))
            .where((eb) =>
              eb.or([
                eb(sql.ref('sent.member'), 'is', null),
                eb.exists(
                  eb
                    .selectFrom('members')
                    .select('members.user_id')
                    .whereRef('members.app_id', '=', 'channels.app_id')
                    .whereRef('members.cid', '=', 'channels.cid')
                    .whereRef('members.user_id', '=', sql.ref('sent.member')),
                ),
              ]),
            )
            .forKeyShare('channels'),
        )
        .onConflict((oc) => oc.columns(['app_id', 'id']).doNothing())
        .returning(['app_id', 'id']),
    )
    .selectNoFrom([
      sql<UserRow[]>`(select coalesce(json_agg(found), '[]') from found)`.as('users'),
      sql<Array<{ app_id: number; id: string }>>`(select coalesce(json_agg(stored), '[]') from stored)`.as(
        'stored',
      ),
    ])
    .execute();
  return {
    users: result!.users,
    stored: new Set(result!.stored.map((row) => storedMessageKey(row.app_id, row.id))),
  };
}

/** Stores a batch of sends in one statement; see insertMessagesIntoOpenChannels. */
export type GroupedSendStatement = typeof insertMessagesIntoOpenChannels;

/** Each dialect's statement for a batch of sends, or undefined when sends are not batched. */
export const groupedSendStatements: Record<DialectName, GroupedSendStatement | undefined> = {
  sqlite: undefined,
  postgres: insertMessagesIntoOpenChannels,
};
