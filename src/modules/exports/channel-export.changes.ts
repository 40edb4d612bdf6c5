/**
 * What an incremental export (`since_cursor`) reads besides messages: the members, channel mutes and
 * reactions of a channel changed in its change window, and the tombstones of what was deleted for good.
 * Each is found by its table's `<table>_changes` index (app_id, cid, change_mark), never by reading the
 * channel.
 */
import { sql, type Kysely } from 'kysely';
import type {
  ChannelMuteRow,
  ChannelRow,
  Database,
  MemberRow,
  TombstonesTable,
} from '../../database/database.types.js';
import type { Selectable } from 'kysely';
import { formatMicros } from '../../lib/time.js';
import { CHANNEL_MUTE_COLUMNS } from '../channels/channels.mutes.js';
import type { ChangeScope } from './channel-export.source.js';

/** Tombstones a page holds: small rows, read by id after the window's range. */
const TOMBSTONE_PAGE_SIZE = 5000;

/** The channel's members changed (added or updated) in the window, in the order membersOf gives. */
export async function changedMembers(
  db: Kysely<Database>,
  appId: number,
  cid: string,
  changes: ChangeScope,
): Promise<MemberRow[]> {
  const { rows } = await sql<MemberRow>`
    select t.* from ${sql.raw(changes.sql.byChanges('members', 't'))}
    where t.app_id = ${appId} and t.cid = ${cid} and ${changes.sql.changedIn('t.change_mark', changes.window)}
    order by t.created_at, t.user_id`.execute(db);
  return rows;
}

/** The channel's mutes changed (muted, or muted again) in the window, in the order mutesOfChannel gives. */
export async function changedChannelMutes(
  db: Kysely<Database>,
  appId: number,
  cid: string,
  changes: ChangeScope,
): Promise<ChannelMuteRow[]> {
  const { rows } = await sql<ChannelMuteRow>`
    select ${sql.join(CHANNEL_MUTE_COLUMNS.map((column) => sql.ref(`t.${column}`)))}
    from ${sql.raw(changes.sql.byChanges('channel_mutes', 't'))}
    where t.app_id = ${appId} and t.cid = ${cid} and ${changes.sql.changedIn('t.change_mark', changes.window)}
    order by t.created_at, t.user_id`.execute(db);
  return rows;
}

/** The condition and FROM item of a channel's reactions changed in the window, aliased `r`. */
export function changedReactions(appId: number, cid: string, changes: ChangeScope) {
  return {
    from: sql.raw(changes.sql.byChanges('reactions', 'r')),
    where: sql`r.app_id = ${appId} and r.cid = ${cid} and ${changes.sql.changedIn('r.change_mark', changes.window)}`,
  };
}

/** A reaction's place in an incremental export: its key. */
export interface ReactionKey {
  messageId: string;
  userId: string;
  type: string;
}

/** Changed reactions after `after` up to and including `through`, in key order. */
export interface ReactionRange {
  after?: ReactionKey;
  through?: ReactionKey;
}

function keyBound(op: '>' | '<=', key: ReactionKey) {
  return sql`(r.message_id, r.user_id, r.type) ${sql.raw(op)} (${key.messageId}, ${key.userId}, ${key.type})`;
}

/** The SQL condition of a range of a channel's changed reactions. */
export function reactionsIn(appId: number, cid: string, changes: ChangeScope, range: ReactionRange) {
  const { where } = changedReactions(appId, cid, changes);
  return sql.join(
    [
      where,
      ...(range.after ? [keyBound('>', range.after)] : []),
      ...(range.through ? [keyBound('<=', range.through)] : []),
    ],
    sql` and `,
  );
}

/** Splits a channel's changed reactions into ranges of `pageSize`, like pageRanges does messages. */
export async function* reactionRanges(
  db: Kysely<Database>,
  appId: number,
  cid: string,
  changes: ChangeScope,
  pageSize: number,
): AsyncGenerator<ReactionRange> {
  const { from } = changedReactions(appId, cid, changes);
  let after: ReactionKey | undefined;
  for (;;) {
    const { rows } = await sql<{ message_id: string; user_id: string; type: string }>`
      select r.message_id, r.user_id, r.type from ${from} where ${reactionsIn(appId, cid, changes, { after })}
      order by r.message_id, r.user_id, r.type limit 1 offset ${Math.max(1, pageSize) - 1}`.execute(db);
    const last = rows[0];
    if (!last) {
      yield { after };
      return;
    }
    const through = { messageId: last.message_id, userId: last.user_id, type: last.type };
    yield { after, through };
    after = through;
  }
}

export type TombstoneRow = Selectable<TombstonesTable>;

/** Pages of the channel's tombstones in the window, in the order the deletes were recorded. */
export async function* tombstonePages(
  db: Kysely<Database>,
  appId: number,
  cid: string,
  changes: ChangeScope,
): AsyncGenerator<TombstoneRow[]> {
  let after = 0;
  for (;;) {
    const { rows } = await sql<TombstoneRow>`
      select t.* from ${sql.raw(changes.sql.byChanges('tombstones', 't'))}
      where t.app_id = ${appId} and t.cid = ${cid} and ${changes.sql.changedIn('t.change_mark', changes.window)}
        and t.id > ${after}
      order by t.id limit ${TOMBSTONE_PAGE_SIZE}`.execute(db);
    if (rows.length > 0) yield rows;
    if (rows.length < TOMBSTONE_PAGE_SIZE) return;
    after = Number(rows[rows.length - 1]!.id);
  }
}

/**
 * A tombstone's `data`, the same in v1 (`tombstones` of a channel record) and v2 (a `tombstone`
 * line): the deleted entity's kind, the key its import line carries, its channel and when it went.
 * docs/schemas/channel-export-v2.schema.json declares it.
 */
export function tombstoneJson(row: TombstoneRow, channel: Pick<ChannelRow, 'type' | 'id'>): string {
  // A member's and a channel mute's key is their user (the channel is named below).
  const key =
    row.entity === 'message'
      ? { id: row.message_id }
      : row.entity === 'reaction'
        ? { message_id: row.message_id, user_id: row.user_id, type: row.reaction_type }
        : { user_id: row.user_id };
  return JSON.stringify({
    entity: row.entity,
    ...key,
    channel_type: channel.type,
    channel_id: channel.id,
    deleted_at: formatMicros(Number(row.deleted_at)),
  });
}
