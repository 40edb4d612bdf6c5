/**
 * Reference checks, the part that needs the database: the references a batch names that the file did
 * not define before them (import-references.ts) are looked up there, a few hundred ids a query, before
 * the batch is written. Ids found are remembered (up to KNOWN_LIMIT of a kind), so a user or channel
 * the lines keep naming is looked up once an import.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../database/database.types.js';
import { chunk } from '../../lib/ids.js';
import {
  KNOWN_LIMIT,
  parentProblem,
  unknownReference,
  type PendingReferences,
  type Reference,
} from './import-references.js';
import { ImportLineError } from './imports.errors.js';

const LOOKUP_CHUNK = 500;

interface Failure {
  line: number;
  order: number;
  field: string;
  reason: string;
}

export class StoredReferences {
  private readonly users = new Set<string>();
  private readonly channels = new Set<string>();
  /** Message id → its cid when it may parent a thread (top-level), null when it is a reply. */
  private readonly messages = new Map<string, string | null>();

  /** Whether this message id was found stored by an earlier lookup. */
  hasMessage(id: string): boolean {
    return this.messages.has(id);
  }

  /**
   * Looks the pending ids up in the database (only there: an id defined on a later line does not
   * count) and throws an ImportLineError for the earliest line naming something that does not exist.
   * With `rowLocks` the channels and messages found are locked until the import commits: the import
   * recounts their counters, and nobody may change or remove them meanwhile (rows the import writes
   * itself are locked by writing them).
   */
  async resolve(
    db: Kysely<Database>,
    appId: number,
    pending: PendingReferences,
    rowLocks: boolean,
  ): Promise<void> {
    const unseen = (ids: Iterable<string>, known: { has(id: string): boolean }) =>
      [...ids].filter((id) => !known.has(id));
    const users = await storedIds(db, 'users', appId, unseen(pending.users.keys(), this.users), false);
    const channels = await storedIds(
      db,
      'channels',
      appId,
      unseen(pending.channels.keys(), this.channels),
      rowLocks,
    );
    const messages = await storedMessages(
      db,
      appId,
      unseen([...pending.messages.keys(), ...pending.parentChecks.map((c) => c.parentId)], this.messages),
      rowLocks,
    );
    const failures: Failure[] = [];
    const missing = (
      waiting: Map<string, Reference>,
      found: { has(id: string): boolean },
      known: { has(id: string): boolean },
      what: string,
    ) => {
      for (const [id, { line, order, field }] of waiting) {
        if (!found.has(id) && !known.has(id))
          failures.push({ line, order, field, reason: unknownReference(`${what} ${id}`) });
      }
    };
    missing(pending.users, users, this.users, 'user');
    missing(pending.channels, channels, this.channels, 'channel');
    missing(pending.messages, messages, this.messages, 'message');
    for (const { line, order, parentId, cid } of pending.parentChecks) {
      const parentCid = messages.has(parentId) ? messages.get(parentId) : this.messages.get(parentId);
      const reason =
        parentCid === undefined
          ? unknownReference(`message ${parentId}`)
          : parentProblem(parentId, parentCid, cid);
      if (reason) failures.push({ line, order, field: 'data.parent_id', reason });
    }
    if (failures.length > 0) {
      const first = failures.reduce((a, b) => (b.order < a.order ? b : a));
      throw new ImportLineError(first.line, first.field, first.reason);
    }
    for (const id of users) this.users.add(id);
    for (const cid of channels) this.channels.add(cid);
    for (const [id, cid] of messages) this.messages.set(id, cid);
    for (const known of [this.users, this.channels, this.messages]) {
      if (known.size > KNOWN_LIMIT) known.clear();
    }
  }
}

/** Ids are looked up (and locked) in sorted order, the order every locker of several rows keeps. */
async function storedIds(
  db: Kysely<Database>,
  table: 'users' | 'channels',
  appId: number,
  ids: string[],
  lock: boolean,
): Promise<Set<string>> {
  const found = new Set<string>();
  for (const batch of chunk(ids.sort(), LOOKUP_CHUNK)) {
    const rows =
      table === 'users'
        ? await db
            .selectFrom('users')
            .select('id')
            .where('app_id', '=', appId)
            .where('id', 'in', batch)
            .execute()
        : await db
            .selectFrom('channels')
            .select('cid as id')
            .where('app_id', '=', appId)
            .where('cid', 'in', batch)
            .orderBy('cid')
            .$if(lock, (query) => query.forUpdate())
            .execute();
    for (const row of rows) found.add(row.id);
  }
  return found;
}

/** Stored messages among `ids`: id → cid when top-level, null when a reply. */
async function storedMessages(
  db: Kysely<Database>,
  appId: number,
  ids: string[],
  lock: boolean,
): Promise<Map<string, string | null>> {
  const found = new Map<string, string | null>();
  for (const batch of chunk([...new Set(ids)].sort(), LOOKUP_CHUNK)) {
    const rows = await db
      .selectFrom('messages')
      .select(['id', 'cid', 'parent_id'])
      .where('app_id', '=', appId)
      .where('id', 'in', batch)
      .orderBy('id')
      .$if(lock, (query) => query.forUpdate())
      .execute();
    for (const row of rows) found.set(row.id, row.parent_id === null ? row.cid : null);
  }
  return found;
}
