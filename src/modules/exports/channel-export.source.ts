import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { ChannelRow, Database, UserRow } from '../../database/database.types.js';
import { chunk } from '../../lib/ids.js';
import { findUsersByIds } from '../users/users.repository.js';
import type { ChannelExportSelection } from './channel-export.request.js';
import type { ReadSession } from '../../database/dialects/read-session.js';
import type { ChangeMarkSql, ChangeWindow, ExportSqlDialect } from './export-sql.dialects.js';

/** Messages a v2 page carries: a few megabytes of file, one query, and a short hold on SQLite. */
export const MESSAGE_PAGE_SIZE = 5000;

/** Which of a channel's messages an export carries. */
export interface MessageWindow {
  /** Inclusive lower bound on created_at. */
  since: number | null;
  /** Exclusive upper bound on created_at. */
  until: number | null;
  /** Messages at or before this are hidden (truncation), unless truncated messages are included. */
  hiddenUntil: number | null;
}

export function messageWindow(
  channel: ChannelRow,
  selection: ChannelExportSelection,
  includeTruncated: boolean,
): MessageWindow {
  return {
    since: selection.messagesSince,
    until: selection.messagesUntil,
    hiddenUntil: includeTruncated ? null : channel.truncated_at,
  };
}

/** A message's place in export order. */
export interface MessageKey {
  createdAt: number;
  id: string;
}

/** The messages after `after` up to and including `through`; an end left out is open. */
export interface PageRange {
  after?: MessageKey;
  through?: MessageKey;
}

/** What an incremental export carries of a channel: its rows changed in `window`. */
export interface ChangeScope {
  window: ChangeWindow;
  sql: ChangeMarkSql;
}

/** Where in the messages of one channel an export reads: the channel, its window, a range of it. */
export interface MessageScope {
  appId: number;
  cid: string;
  window: MessageWindow;
  /** Incremental exports: only the messages changed in this window. */
  changes?: ChangeScope;
}

/**
 * The messages of a scope as a FROM item aliased `m`: an incremental export continuing from a mark
 * reads them by the changes index (a range of what changed), never by scanning the channel.
 */
export function messagesFrom(scope: MessageScope, m = 'm'): RawBuilder<unknown> {
  const changes = scope.changes;
  if (changes && changes.window.after !== null) return sql.raw(changes.sql.byChanges('messages', m));
  return sql.raw(`messages ${m}`);
}

/**
 * The SQL condition on the messages aliased `m` for a scope and range. Keyset bounds are row-value
 * comparisons, which both databases turn into one range scan of the messages_channel_time index (an
 * `a > x or (a = x and b > y)` form is not, and made each page rescan the channel from its start).
 */
export function messagesIn(scope: MessageScope, range: PageRange = {}, m = 'm'): RawBuilder<unknown> {
  const column = (name: string) => sql.raw(`${m}.${name}`);
  const { window } = scope;
  const lowest = Math.max(
    window.since ?? Number.MIN_SAFE_INTEGER,
    window.hiddenUntil === null ? Number.MIN_SAFE_INTEGER : window.hiddenUntil + 1,
  );
  const conditions = [sql`${column('app_id')} = ${scope.appId}`, sql`${column('cid')} = ${scope.cid}`];
  if (scope.changes) conditions.push(scope.changes.sql.changedIn(`${m}.change_mark`, scope.changes.window));
  // After the first page the keyset bound implies the window's start; stated as well, it would be
  // the range SQLite seeks by, and every page would scan from the window's start again.
  if (lowest > Number.MIN_SAFE_INTEGER && !range.after)
    conditions.push(sql`${column('created_at')} >= ${lowest}`);
  if (window.until !== null) conditions.push(sql`${column('created_at')} < ${window.until}`);
  const key = sql`(${column('created_at')}, ${column('id')})`;
  // Each keyset bound is also stated on created_at alone, which it implies: PostgreSQL estimates a
  // row-value comparison far too high, and so preferred messages_parent for the created_at range it
  // derives from one, reading the app's whole index for every page (10 ms of a 25 ms v1 page of
  // 2,000 messages). A plain range is estimated from the column's histogram. SQLite seeks by the row
  // values either way.
  if (range.after) {
    conditions.push(sql`${key} > (${range.after.createdAt}, ${range.after.id})`);
    conditions.push(sql`${column('created_at')} >= ${range.after.createdAt}`);
  }
  if (range.through) {
    conditions.push(sql`${key} <= (${range.through.createdAt}, ${range.through.id})`);
    conditions.push(sql`${column('created_at')} <= ${range.through.createdAt}`);
  }
  return sql.join(conditions, sql` and `);
}

/**
 * Splits the messages of a scope into pages of `pageSize()` (asked before each page), in (created_at,
 * id) order, by asking the index for each page's last key: the pages' contents are then read by one
 * query each. A message present throughout is in exactly one page; no connection is held between.
 */
export async function* pageRanges(
  db: Kysely<Database>,
  scope: MessageScope,
  pageSize: () => number,
  /** Start after this message (a resumed export): the ones up to it were written already. */
  start?: MessageKey,
): AsyncGenerator<PageRange> {
  let after: MessageKey | undefined = start;
  for (;;) {
    const { rows } = await sql<{ created_at: number; id: string }>`
      select m.created_at, m.id from ${messagesFrom(scope)} where ${messagesIn(scope, { after })}
      order by m.created_at, m.id limit 1 offset ${Math.max(1, pageSize()) - 1}`.execute(db);
    const last = rows[0];
    if (!last) {
      yield { after };
      return;
    }
    const through = { createdAt: Number(last.created_at), id: last.id };
    yield { after, through };
    after = through;
  }
}

/** How many messages a scope holds: one count over the messages_channel_time index. */
export async function countMessages(db: Kysely<Database>, scope: MessageScope): Promise<number> {
  const { rows } = await sql<{ total: number | string }>`
    select count(*) as total from messages m where ${messagesIn(scope)}`.execute(db);
  return Number(rows[0]?.total ?? 0);
}

/**
 * Every user the messages of a scope name: authors, mentioned users and reactors. The database reads
 * the messages for each kind of reference without sending them, the three at once on the session's
 * connections. (`cross join` makes SQLite walk the channel's messages and look up their reactions,
 * not every reaction of the app.)
 */
export async function referencedUserIds(
  session: ReadSession,
  exportSql: ExportSqlDialect,
  scope: MessageScope,
): Promise<Set<string>> {
  const queries = [
    sql<{
      id: string;
    }>`select distinct m.user_id as id from ${messagesFrom(scope)} where ${messagesIn(scope)}`,
    sql<{ id: string }>`select distinct j.value as id
      from ${messagesFrom(scope)}, ${sql.raw(exportSql.arrayElements('m.mentioned_users', 'j'))}
      where ${messagesIn(scope)} and length(m.mentioned_users) > 2`,
    sql<{ id: string }>`select distinct r.user_id as id from ${messagesFrom(scope)} cross join reactions r
      where ${messagesIn(scope)} and r.app_id = m.app_id and r.message_id = m.id`,
    // An incremental export carries reactions changed on messages it does not carry.
    ...(scope.changes
      ? [
          sql<{ id: string }>`select distinct r.user_id as id
            from ${sql.raw(scope.changes.sql.byChanges('reactions', 'r'))} where r.app_id = ${scope.appId}
            and r.cid = ${scope.cid} and ${scope.changes.sql.changedIn('r.change_mark', scope.changes.window)}`,
        ]
      : []),
  ];
  const ids = new Set<string>();
  for (const rows of await Promise.all(queries.map((query) => session.query(query.compile(session.db)))))
    for (const row of rows) ids.add(row.id);
  return ids;
}

/**
 * Serialised users by id, fetched in batches and kept for the whole export (an export refers to the
 * same users over and over). `seen` records every id asked for, for `export_users`.
 */
export class UserCache {
  private readonly json = new Map<string, string>();
  readonly rows = new Map<string, UserRow>();
  readonly seen = new Set<string>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly appId: number,
    private readonly serialise: (row: UserRow) => string,
    private readonly missing: (id: string) => string,
  ) {}

  /** Loads the users among `ids` not loaded yet. */
  async load(ids: Iterable<string>): Promise<void> {
    const wanted: string[] = [];
    for (const id of ids) {
      this.seen.add(id);
      if (!this.json.has(id)) wanted.push(id);
    }
    if (wanted.length === 0) return;
    for (const batch of chunk([...new Set(wanted)], 500)) {
      const rows = await findUsersByIds(this.db, this.appId, batch);
      for (const id of batch) {
        const row = rows.get(id);
        if (row) this.rows.set(id, row);
        this.json.set(id, row ? this.serialise(row) : this.missing(id));
      }
    }
  }

  /** The serialised user; `load` must have been called with the id. */
  get(id: string): string {
    return this.json.get(id) ?? this.missing(id);
  }
}
