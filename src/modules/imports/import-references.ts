/**
 * Reference checks, the part that needs no database: every user, channel and message a line names
 * must be in the database or defined on an earlier line. Ids seen in the file are remembered, so most
 * checks are a set lookup; the rest are handed over with their batch (`PendingReferences`) and looked
 * up in the database before it is written (import-stored-references.ts). The memory is bounded: past
 * KNOWN_LIMIT ids of a kind, the remembered ones are forgotten at the next batch boundary (by then
 * the batches that defined them are written, so later references find them in the database instead).
 *
 * Pure data and no database, so it can run on the parser thread, and its state can be handed to it.
 */
import type { ImportRecord } from './import-records.js';
import { ImportLineError } from './imports.errors.js';

export const KNOWN_LIMIT = 250_000;

/** `order` counts checks in the order they were made, so the first of several failures on a line wins. */
export interface Reference {
  line: number;
  order: number;
  field: string;
}

export interface ParentCheck {
  line: number;
  order: number;
  parentId: string;
  cid: string;
}

/** The references of a batch that name ids the file did not define before them. */
export interface PendingReferences {
  users: Map<string, Reference>;
  channels: Map<string, Reference>;
  messages: Map<string, Reference>;
  /** Replies whose parent the file did not define before them. */
  parentChecks: ParentCheck[];
}

export function noPendingReferences(): PendingReferences {
  return { users: new Map(), channels: new Map(), messages: new Map(), parentChecks: [] };
}

export const unknownReference = (what: string) =>
  `${what} is neither in the database nor earlier in the file`;

/** Why `parentCid` (the parent's cid, null when the parent is itself a reply) cannot hold a reply in `cid`. */
export function parentProblem(parentId: string, parentCid: string | null, cid: string): string | undefined {
  if (parentCid === null) return `message ${parentId} is a reply, and replies cannot have replies`;
  if (parentCid !== cid) return `message ${parentId} is in ${parentCid}, not in ${cid}`;
  return undefined;
}

/** What the file defined so far: plain data, handed to the parser thread with the parser. */
export interface FileReferencesState {
  users: Set<string>;
  channels: Set<string>;
  /** Message id → its cid when it may parent a thread (top-level), null when it is a reply. */
  messages: Map<string, string | null>;
  pending: PendingReferences;
  checks: number;
  /** Whether remembered message ids were ever forgotten (past KNOWN_LIMIT). */
  forgotMessages: boolean;
}

export class FileReferences {
  private readonly state: FileReferencesState;

  constructor(state?: FileReferencesState) {
    this.state = state ?? {
      users: new Set(),
      channels: new Set(),
      messages: new Map(),
      pending: noPendingReferences(),
      checks: 0,
      forgotMessages: false,
    };
  }

  snapshot(): FileReferencesState {
    return this.state;
  }

  /**
   * Whether a line for this message id may replace a row the import wrote: the id was defined on an
   * earlier line, or ids have been forgotten so nobody can tell.
   */
  mayBeWritten(messageId: string): boolean {
    return this.state.forgotMessages || this.state.messages.has(messageId);
  }

  /**
   * Checks the ids a record names (ids the file did not define wait in the pending references), then
   * remembers the id it defines. Throws an ImportLineError when the file itself shows a reference
   * wrong (a reply to a reply, or to a message of another channel).
   */
  take(record: ImportRecord): void {
    const { users, channels, messages, pending } = this.state;
    const line = record.line;
    switch (record.kind) {
      case 'user':
        users.add(record.row.id);
        return;
      case 'channel': {
        const { created_by_id: creator, truncated_by_id: truncatedBy } = record.row;
        if (creator !== null) this.expect(users, pending.users, creator, line, 'data.created_by');
        if (truncatedBy !== null) this.expect(users, pending.users, truncatedBy, line, 'data.truncated_by');
        channels.add(record.row.cid);
        return;
      }
      case 'member':
      case 'channel_mute':
        this.expect(channels, pending.channels, record.row.cid, line, 'data.channel_id');
        this.expect(users, pending.users, record.row.user_id, line, 'data.user_id');
        return;
      case 'message': {
        const row = record.row;
        this.expect(channels, pending.channels, row.cid, line, 'data.channel_id');
        this.expect(users, pending.users, row.user_id, line, 'data.user');
        for (const id of record.mentionedUsers) {
          this.expect(users, pending.users, id, line, 'data.mentioned_users');
        }
        if (row.quoted_message_id !== null) {
          this.expect(messages, pending.messages, row.quoted_message_id, line, 'data.quoted_message_id');
        }
        if (row.parent_id !== null) {
          const parentCid = messages.get(row.parent_id);
          if (parentCid === undefined)
            pending.parentChecks.push({
              line,
              order: this.state.checks++,
              parentId: row.parent_id,
              cid: row.cid,
            });
          else {
            const problem = parentProblem(row.parent_id, parentCid, row.cid);
            if (problem) throw new ImportLineError(line, 'data.parent_id', problem);
          }
        }
        messages.set(row.id, row.parent_id === null ? row.cid : null);
        return;
      }
      case 'reaction':
        this.expect(messages, pending.messages, record.row.message_id, line, 'data.message_id');
        this.expect(users, pending.users, record.row.user_id, line, 'data.user_id');
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
    if (!known.has(id) && !pending.has(id)) pending.set(id, { line, order: this.state.checks++, field });
  }

  /** Hands over the references of the batch just cut that wait for the database. */
  takePending(): PendingReferences {
    const pending = this.state.pending;
    this.state.pending = noPendingReferences();
    return pending;
  }

  /**
   * Called at a batch boundary: forgets remembered ids past the limit. The batch is written before
   * any later one is checked against the database, so the ids forgotten are found there.
   */
  endBatch(): void {
    const state = this.state;
    if (state.messages.size > KNOWN_LIMIT) state.forgotMessages = true;
    for (const known of [state.users, state.channels, state.messages]) {
      if (known.size > KNOWN_LIMIT) known.clear();
    }
  }
}
