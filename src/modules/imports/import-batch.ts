import type {
  ChannelMuteRecord,
  ImportRecord,
  MemberRecord,
  MessageRecord,
  ReactionRecord,
  UserRecord,
  ChannelRecord,
} from './import-records.js';

/** Lines imported, by type. */
export interface ImportCounts {
  users: number;
  channels: number;
  members: number;
  channel_mutes: number;
  messages: number;
  reactions: number;
}

export function emptyCounts(): ImportCounts {
  return { users: 0, channels: 0, members: 0, channel_mutes: 0, messages: 0, reactions: 0 };
}

export function addCounts(total: ImportCounts, more: ImportCounts): void {
  total.users += more.users;
  total.channels += more.channels;
  total.members += more.members;
  total.channel_mutes += more.channel_mutes;
  total.messages += more.messages;
  total.reactions += more.reactions;
}

const countKey = {
  user: 'users',
  channel: 'channels',
  member: 'members',
  channel_mute: 'channel_mutes',
  message: 'messages',
  reaction: 'reactions',
} as const;

/**
 * The records of one transaction, keyed by primary key: a later line for the same key replaces the
 * earlier one (the same "last line wins" a re-import gives), and no statement has to touch a row twice.
 * Ids, cids and types never contain a newline, so it separates the parts of composite keys.
 */
export class ImportBatch {
  readonly users = new Map<string, UserRecord>();
  readonly channels = new Map<string, ChannelRecord>();
  readonly members = new Map<string, MemberRecord>();
  readonly channelMutes = new Map<string, ChannelMuteRecord>();
  readonly messages = new Map<string, MessageRecord>();
  readonly reactions = new Map<string, ReactionRecord>();
  readonly counts = emptyCounts();
  /** Ids of message lines that may replace a stored row (whose former thread then loses a reply). */
  readonly maybeStoredMessages = new Set<string>();
  /** Lines taken (duplicates included). */
  size = 0;
  firstLine = 0;
  lastLine = 0;

  /** The batch whose fields `state` holds: a batch that crossed from another thread as plain data. */
  static from(state: ImportBatchState): ImportBatch {
    return Object.assign(new ImportBatch(), state);
  }

  add(record: ImportRecord): void {
    switch (record.kind) {
      case 'user':
        this.users.set(record.row.id, record);
        break;
      case 'channel':
        this.channels.set(record.row.cid, record);
        break;
      case 'member':
        this.members.set(`${record.row.cid}\n${record.row.user_id}`, record);
        break;
      case 'channel_mute':
        this.channelMutes.set(`${record.row.cid}\n${record.row.user_id}`, record);
        break;
      case 'message':
        this.messages.set(record.row.id, record);
        break;
      case 'reaction':
        this.reactions.set(`${record.row.message_id}\n${record.row.user_id}\n${record.row.type}`, record);
        break;
    }
    this.counts[countKey[record.kind]]++;
    if (this.size === 0) this.firstLine = record.line;
    this.lastLine = record.line;
    this.size++;
  }
}

/** A batch as plain data, as it crosses between threads (structured clone keeps Maps and Sets). */
export type ImportBatchState = {
  [
    K in keyof ImportBatch as ImportBatch[K] extends (...args: never[]) => unknown ? never : K
  ]: ImportBatch[K];
};

/** The rows of a batch's records, for the bulk writer. */
export function rowsOf<R extends { row: unknown }>(records: Map<string, R>): Array<R['row']> {
  return Array.from(records.values(), (record) => record.row);
}

/** The rows of `records` split in two: those `first` holds for, and the rest. */
export function partitionRows<R extends { row: unknown }>(
  records: Map<string, R>,
  first: (record: R) => boolean,
): [Array<R['row']>, Array<R['row']>] {
  const chosen: Array<R['row']> = [];
  const rest: Array<R['row']> = [];
  for (const record of records.values()) (first(record) ? chosen : rest).push(record.row);
  return [chosen, rest];
}

/**
 * The rows of records that say which columns an existing row keeps, grouped by those columns: one
 * upsert a group, since a statement replaces the same columns for every row.
 */
export function rowsByKept<R extends { row: unknown; keep: readonly string[] }>(
  records: Map<string, R>,
): Array<{ keep: R['keep']; rows: Array<R['row']> }> {
  const groups = new Map<string, { keep: R['keep']; rows: Array<R['row']> }>();
  for (const record of records.values()) {
    const signature = record.keep.join(',');
    const group = groups.get(signature);
    if (group) group.rows.push(record.row);
    else groups.set(signature, { keep: record.keep, rows: [record.row] });
  }
  return [...groups.values()];
}
