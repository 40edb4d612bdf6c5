/**
 * The SQL of sends that differs between the databases: storing a batch of top-level messages sent at
 * once in one statement (messages.send-batches.ts). PostgreSQL has it; SQLite has none, and each of
 * its sends runs the transaction: one writer at a time, whose commit waits for no disk flush (WAL with
 * synchronous=NORMAL), leaves a batch nothing to share.
 */
import { sql, type Kysely } from 'kysely';
import type { DatabaseDialect, DialectName } from '../../database/database.js';
import type { Database, MessageRow, UserRow } from '../../database/database.types.js';
import { MESSAGE_COLUMN_TYPES } from '../../database/column-types.js';
import { unique } from '../../lib/ids.js';

/** A message to store if its users exist and its channel takes it (insertMessagesIntoOpenChannels). */
export interface OpenChannelInsert {
  row: MessageRow;
  /** The users it names (its author, the users it mentions): all must exist. */
  userIds: readonly string[];
  /** Stored even into a frozen channel. */
  frozenToo: boolean;
  /** Stored only if this user is a member of the channel. */
  member: string | undefined;
}

/** The key insertMessagesIntoOpenChannels answers with: app and message id. */
export const storedMessageKey = (appId: number, id: string) => `${appId}\u0000${id}`;

const MESSAGE_COLUMNS = Object.keys(MESSAGE_COLUMN_TYPES) as Array<keyof MessageRow>;

/**
 * PostgreSQL (a data-modifying WITH): in one statement, reads the users the messages name and
 * inserts each message whose users all exist and whose channel takes it: the channel exists, is not
 * deleted, is not frozen (unless `frozenToo`), and has `member` as a member when one is named. The
 * channel rows are read `FOR KEY SHARE`, held until the statement commits, as storeMessage's
 * transaction holds its channel. Each channel's last_message_at moves forward to its newest message
 * inserted, never back, in the same statement: a batch pays for one round trip and one commit, not
 * two. Those rows are locked `FOR NO KEY UPDATE` in key order before any is updated, so batches
 * (of this process and of others) lock them in the same order and queue rather than deadlock; they
 * are held until the commit's WAL flush, which is why a process runs one batch at a time
 * (messages.send-batches.ts). Answers with the users found and the keys (storedMessageKey) of the
 * messages inserted; of the others nothing tells why (the caller finds out). Ids taken, in the table
 * or earlier in `inserts`, are skipped.
 *
 * The messages come as one array a column (unnest), so the text is the same whatever the batch holds
 * and runs as a prepared statement: planning a statement this size costs more than running it.
 */
export async function insertMessagesIntoOpenChannels(
  { db, keepPrepared }: Pick<DatabaseDialect, 'db' | 'keepPrepared'>,
  inserts: readonly OpenChannelInsert[],
): Promise<{ users: UserRow[]; stored: Set<string> }> {
  if (inserts.length === 0) return { users: [], stored: new Set() };
  const columns = MESSAGE_COLUMNS.map(
    (column) =>
      sql`cast(${inserts.map(({ row }) => row[column])} as ${sql.raw(MESSAGE_COLUMN_TYPES[column])}[])`,
  );
  // The users each message names, as (position in inserts, user id) pairs.
  const named = inserts.flatMap(({ userIds }, i) =>
    unique(userIds).map((userId) => [i + 1, userId] as const),
  );
  const list = sql.raw(MESSAGE_COLUMNS.join(', '));
  const query = sql<{ users: UserRow[]; stored: Array<{ app_id: number; id: string }> }>`
    with sent as (
      select * from unnest(${sql.join(columns)},
        cast(${inserts.map(({ frozenToo }) => frozenToo)} as boolean[]),
        cast(${inserts.map(({ member }) => member ?? null)} as text[]))
        with ordinality as sent(${list}, frozen_too, member, position)
    ),
    named as (
      select * from unnest(cast(${named.map(([position]) => position)} as bigint[]),
        cast(${named.map(([, userId]) => userId)} as text[])) as named(position, user_id)
    ),
    found as (
      select users.* from users
      where (users.app_id, users.id) in
        (select sent.app_id, named.user_id from named join sent on sent.position = named.position)
    ),
    stored as (
      insert into messages (${list})
      select ${sql.raw(MESSAGE_COLUMNS.map((column) => `sent.${column}`).join(', '))}
      from sent join channels on channels.app_id = sent.app_id and channels.cid = sent.cid
      where channels.deleted_at is null
        and (sent.frozen_too or channels.frozen = 0)
        and (sent.member is null or exists (select 1 from members
          where members.app_id = channels.app_id and members.cid = channels.cid
            and members.user_id = sent.member))
        and not exists (select 1 from named where named.position = sent.position
          and not exists (select 1 from found where found.app_id = sent.app_id and found.id = named.user_id))
      for key share of channels
      on conflict (app_id, id) do nothing
      returning app_id, id, cid, created_at, parent_id, show_in_channel
    ),
    newest as (
      select app_id, cid, max(created_at) as created_at from stored
      where parent_id is null or show_in_channel = 1
      group by app_id, cid
    ),
    locked as (
      select channels.app_id, channels.cid, newest.created_at from channels
      join newest on newest.app_id = channels.app_id and newest.cid = channels.cid
      order by channels.app_id, channels.cid
      for no key update of channels
    ),
    moved as (
      update channels set last_message_at = locked.created_at
      from locked
      where channels.app_id = locked.app_id and channels.cid = locked.cid
        and coalesce(channels.last_message_at, -1) < locked.created_at
    )
    select (select coalesce(json_agg(found), '[]') from found) as users,
      (select coalesce(json_agg(json_build_object('app_id', app_id, 'id', id)), '[]') from stored) as stored`.compile(
    db,
  );
  keepPrepared(query.sql);
  const [result] = (await db.executeQuery(query)).rows;
  return {
    users: result!.users,
    stored: new Set(result!.stored.map((row) => storedMessageKey(row.app_id, row.id))),
  };
}

/** A channel, by app and cid. */
export interface ChannelKey {
  appId: number;
  cid: string;
}

/**
 * PostgreSQL (only databases with row locks move last_message_at after the commit of a send's
 * transaction: see messages.channel-activity.ts): moves each channel's last_message_at forward to its newest shown
 * message (a top-level message, or a reply shown in the channel), never back. Run after the messages
 * committed, in a statement of its own: it reads every message committed before it started, so one
 * run covers all of them, and a run that never happened (a crash after a commit) is made up by the
 * channel's next one. The channels come as arrays, so the text is one prepared statement however
 * many there are; in key order, so two runs lock their rows in the same order.
 */
export async function catchUpLastMessageAt(
  { db, keepPrepared }: Pick<DatabaseDialect, 'keepPrepared'> & { db: Kysely<Database> },
  channels: readonly ChannelKey[],
): Promise<void> {
  const keys = [...new Map(channels.map((key) => [`${key.appId}\u0000${key.cid}`, key])).values()].sort(
    (a, b) => a.appId - b.appId || (a.cid < b.cid ? -1 : a.cid > b.cid ? 1 : 0),
  );
  const query = sql`
    update channels set last_message_at = newest.created_at
    from (
      select wanted.app_id, wanted.cid,
        (select max(messages.created_at) from messages
          where messages.app_id = wanted.app_id and messages.cid = wanted.cid
            and (messages.parent_id is null or messages.show_in_channel = 1)) as created_at
      from unnest(cast(${keys.map(({ appId }) => appId)} as integer[]),
        cast(${keys.map(({ cid }) => cid)} as text[])) as wanted(app_id, cid)
    ) as newest
    where channels.app_id = newest.app_id and channels.cid = newest.cid
      and coalesce(channels.last_message_at, -1) < newest.created_at`.compile(db);
  keepPrepared(query.sql);
  await db.executeQuery(query);
}

/** Stores a batch of sends in one statement; see insertMessagesIntoOpenChannels. */
export type GroupedSendStatement = typeof insertMessagesIntoOpenChannels;

/** Each dialect's statement for a batch of sends, or undefined when sends are not batched. */
export const groupedSendStatements: Record<DialectName, GroupedSendStatement | undefined> = {
  sqlite: undefined,
  postgres: insertMessagesIntoOpenChannels,
};
