/**
 * Reference checks: every user, channel and message a line names must be in the database or defined
 * on an earlier line. Ids seen in the file are remembered, so most checks are a set lookup; the rest
 * wait until the batch is written and are looked up in the database a few hundred at a time. The
 * memory is bounded: past KNOWN_LIMIT ids of a kind, the remembered ones are forgotten at the next batch
 * boundary (by then they are committed, so later references find them in the database instead).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../database/database.types.js';
import { chunk } from '../../lib/ids.js';
import type { ImportRecord } from './import-records.js';
import { ImportLineError } from './imports.errors.js';

const KNOWN_LIMIT = 250_000;
const LOOKUP_CHUNK = 500;

/** `order` counts checks in the order they were made, so the first of several failures on a line wins. */
interface Reference {
  line: number;
  order: number;
  field: string;
}

interface ParentCheck {
  line: number;
  order: number;
  parentId: string;
  cid: string;
}

interface Failure {
  line: number;
  order: number;
  field: string;
  reason: string;
}

const unknown = (what: string) => `${what} is neither in the database nor earlier in the file`;

/** Why `parentCid` (the parent's cid, null when the parent is itself a reply) cannot hold a reply in `cid`. */
function parentProblem(parentId: string, parentCid: string | null, cid: string): string | undefined {
  if (parentCid === null) return `message ${parentId} is a reply, and replies cannot have replies`;
  if (parentCid !== cid) return `message ${parentId} is in ${parentCid}, not in ${cid}`;
  return undefined;
}

export class ImportReferences {
  private readonly users = new Set<string>();
  private readonly channels = new Set<string>();
  /** Message id → its cid when it may parent a thread (top-level), null when it is a reply. */
  private readonly messages = new Map<string, string | null>();
  private readonly pendingUsers = new Map<string, Reference>();
  private readonly pendingChannels = new Map<string, Reference>();
  private readonly pendingMessages = new Map<string, Reference>();
  private parentChecks: ParentCheck[] = [];
  private checks = 0;
  /** Whether remembered message ids were ever forgotten (past KNOWN_LIMIT). */
  private forgotMessages = false;

  /**
   * Whether a line for this message id may replace a stored row: the id was defined on an earlier
   * line or found in the database, or ids have been forgotten so nobody can tell.
   */
  mayBeStored(messageId: string): boolean {
    return this.forgotMessages || this.messages.has(messageId);
  }

  /** Checks the ids a record names (unknown ones wait for `resolve`), then remembers the id it defines. */
  take(record: ImportRecord): void {
    const line = record.line;
    switch (record.kind) {
      case 'user':
        this.users.add(record.row.id);
        return;
      case 'channel': {
        const { created_by_id: creator, truncated_by_id: truncatedBy } = record.row;
        if (creator !== null) this.expect(this.users, this.pendingUsers, creator, line, 'data.created_by');
        if (truncatedBy !== null)
          this.expect(this.users, this.pendingUsers, truncatedBy, line, 'data.truncated_by');
        this.channels.add(record.row.cid);
        return;
      }
      case 'member':
      case 'channel_mute':
        this.expect(this.channels, this.pendingChannels, record.row.cid, line, 'data.channel_id');
        this.expect(this.users, this.pendingUsers, record.row.user_id, line, 'data.user_id');
        return;
      case 'message': {
        const row = record.row;
        this.expect(this.channels, this.pendingChannels, row.cid, line, 'data.channel_id');
        this.expect(this.users, this.pendingUsers, row.user_id, line, 'data.user');
        for (const id of record.mentionedUsers) {
          this.expect(this.users, this.pendingUsers, id, line, 'data.mentioned_users');
        }
        if (row.quoted_message_id !== null) {
          this.expect(
            this.messages,
            this.pendingMessages,
            row.quoted_message_id,
            line,
            'data.quoted_message_id',
          );
        }
        if (row.parent_id !== null) {
          const parentCid = this.messages.get(row.parent_id);
          if (parentCid === undefined)
            this.parentChecks.push({ line, order: this.checks++, parentId: row.parent_id, cid: row.cid });
          else {
            const problem = parentProblem(row.parent_id, parentCid, row.cid);
            if (problem) throw new ImportLineError(line, 'data.parent_id', problem);
          }
        }
        this.messages.set(row.id, row.parent_id === null ? row.cid : null);
        return;
      }
      case 'reaction':
        this.expect(this.messages, this.pendingMessages, record.row.message_id, line, 'data.message_id');
        this.expect(this.users, this.pendingUsers, record.row.user_id, line, 'data.user_id');
        return;
    }
  }

  private expect(
    known: { has(id: string): boolean },
    pending: Map<string, Reference>,
    id: string,
    line: number,
    field: string,
  ): void {
    if (!known.has(id) && !pending.has(id)) pending.set(id, { line, order: this.checks++, field });
  }

  /**
   * Looks the waiting ids up in the database (only there: an id defined on a later line does not
   * count) and throws an ImportLineError for the earliest line naming something that does not exist.
   * With `rowLocks` the channels and messages found are locked until the import commits: the import
   * recounts their counters, and nobody may change or remove them meanwhile (rows the import writes
   * itself are locked by writing them).
   */
  async resolve(db: Kysely<Database>, appId: number, rowLocks: boolean): Promise<void> {
    const users = await storedIds(db, 'users', appId, [...this.pendingUsers.keys()], false);
    const channels = await storedIds(db, 'channels', appId, [...this.pendingChannels.keys()], rowLocks);
    const messages = await storedMessages(
      db,
      appId,
      [...this.pendingMessages.keys(), ...this.parentChecks.map((check) => check.parentId)],
      rowLocks,
    );
    const failures: Failure[] = [];
    const missing = (pending: Map<string, Reference>, found: { has(id: string): boolean }, what: string) => {
      for (const [id, { line, order, field }] of pending) {
        if (!found.has(id)) failures.push({ line, order, field, reason: unknown(`${what} ${id}`) });
      }
    };
    missing(this.pendingUsers, users, 'user');
    missing(this.pendingChannels, channels, 'channel');
    missing(this.pendingMessages, messages, 'message');
    for (const { line, order, parentId, cid } of this.parentChecks) {
      const parentCid = messages.get(parentId);
      const reason =
        parentCid === undefined ? unknown(`message ${parentId}`) : parentProblem(parentId, parentCid, cid);
      if (reason) failures.push({ line, order, field: 'data.parent_id', reason });
    }
    if (failures.length > 0) {
      const first = failures.reduce((a, b) => (b.order < a.order ? b : a));
      throw new ImportLineError(first.line, first.field, first.reason);
    }
    for (const id of users) this.users.add(id);
    for (const cid of channels) this.channels.add(cid);
    for (const [id, cid] of messages) this.messages.set(id, cid);
    this.pendingUsers.clear();
    this.pendingChannels.clear();
    this.pendingMessages.clear();
    this.parentChecks = [];
  }

  /** Called once a batch is committed: forgets remembered ids past the limit. */
  endBatch(): void {
    if (this.messages.size > KNOWN_LIMIT) this.forgotMessages = true;
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
