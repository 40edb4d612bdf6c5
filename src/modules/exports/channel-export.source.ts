import type { Kysely } from 'kysely';
import type { ChannelRow, Database, MessageRow, UserRow } from '../../database/database.types.js';
import { chunk } from '../../lib/ids.js';
import { findUsersByIds } from '../users/users.repository.js';
import type { ChannelExportSelection } from './channel-export.request.js';

/** Messages read per query: large pages keep the export's query count small (1M messages: 200). */
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

/**
 * A channel's messages (thread replies included) in (created_at, id) order, a large page at a time,
 * by keyset pagination on the messages_channel_time index: each page is one indexed range scan, no
 * connection is held between pages, and a message present throughout is read exactly once.
 */
export async function* messagePages(
  db: Kysely<Database>,
  appId: number,
  cid: string,
  window: MessageWindow,
  pageSize = MESSAGE_PAGE_SIZE,
): AsyncGenerator<MessageRow[]> {
  let after: { createdAt: number; id: string } | undefined;
  const lowest = Math.max(
    window.since ?? Number.MIN_SAFE_INTEGER,
    window.hiddenUntil === null ? Number.MIN_SAFE_INTEGER : window.hiddenUntil + 1,
  );
  for (;;) {
    let query = db.selectFrom('messages').selectAll().where('app_id', '=', appId).where('cid', '=', cid);
    if (lowest > Number.MIN_SAFE_INTEGER) query = query.where('created_at', '>=', lowest);
    if (window.until !== null) query = query.where('created_at', '<', window.until);
    const cursor = after;
    if (cursor) {
      query = query.where((eb) =>
        eb.or([
          eb('created_at', '>', cursor.createdAt),
          eb.and([eb('created_at', '=', cursor.createdAt), eb('id', '>', cursor.id)]),
        ]),
      );
    }
    const rows = await query.orderBy('created_at').orderBy('id').limit(pageSize).execute();
    if (rows.length > 0) yield rows;
    if (rows.length < pageSize) return;
    const last = rows[rows.length - 1]!;
    after = { createdAt: last.created_at, id: last.id };
  }
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
