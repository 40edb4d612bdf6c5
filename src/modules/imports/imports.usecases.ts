/**
 * The bulk ingest path, and the way back in for v2 exports: reads Stream's import format line by line,
 * checks each line, and writes the lines a batch at a time, all in one transaction (docs/imports.md).
 *
 * Glossary: a *line* is one `{"type","data"}` entity; a *record* is the row a line becomes; a *batch*
 * is the records held in memory and written together; a *reference* is an id a line names (a
 * message's user, a reaction's message) that must exist in the database or on an earlier line.
 */
import type { Kysely } from 'kysely';
import type { DatabaseDialect } from '../../database/database.js';
import type { Database } from '../../database/database.types.js';
import type { BulkUpsert, BulkWriter, ColumnOf, TableName } from '../../database/dialects/bulk-writer.js';
import type { Clock } from '../../lib/time.js';
import {
  addCounts,
  emptyCounts,
  ImportBatch,
  partitionRows,
  rowsByKept,
  rowsOf,
  type ImportCounts,
} from './import-batch.js';
import {
  countNewMessages,
  ImportedWithoutReactions,
  prepareImportCounters,
  refreshImportCounters,
  restoreCounterTargets,
} from './import-counters.js';
import type { ImportInput } from './import-line-reader.js';
import type { LineFailure } from './import-parser.js';
import { parseInput, type ParserMode } from './import-parser-thread.js';
import type { PendingReferences } from './import-references.js';
import { StoredReferences } from './import-stored-references.js';
import { adoptStoredCreationTimes, stampImportTime } from './import-stored-times.js';
import {
  channelMuteTable,
  channelTable,
  memberTable,
  messageTable,
  reactionTable,
  userTable,
} from './import-tables.js';
import { ImportLineError } from './imports.errors.js';

export type { ImportCounts } from './import-batch.js';
export type { ImportInput } from './import-line-reader.js';
export type { ParserMode } from './import-parser-thread.js';

/** Lines held in memory and written at a time when the caller does not say. */
export const DEFAULT_BATCH_SIZE = 5_000;

export interface ImportProgress {
  /** Lines read and written so far (blank lines included); nothing is committed before the end. */
  lines: number;
  /** Input consumed so far: bytes for byte input, characters for text. */
  bytesRead: number;
  /** Lines written, by type. */
  counts: ImportCounts;
  /** Where the lines just written were parsed: on the importer's thread, or on a thread of their own. */
  parsedOn: 'inline' | 'thread';
}

export interface ImportOptions {
  /** The database (a Context has it). */
  dialect: DatabaseDialect;
  /** Supplies `created_at` for lines without one (a Context has it). */
  clock: Clock;
  /** The app the data belongs to. */
  appId: number;
  input: ImportInput;
  /**
   * Lines held in memory and written at a time, default 5,000: it bounds memory, not the transaction.
   * The whole import is one transaction, so it stores everything or nothing.
   */
  batchSize?: number;
  /**
   * Where lines are read and checked (import-parser-thread.ts): `auto`, on a thread of their own
   * beside the writing once the input is longer than a batch; `thread` from the first line; `inline`
   * never on another thread. Default `auto` on PostgreSQL, `inline` on SQLite (defaultParserMode).
   */
  parser?: ParserMode;
  /** Called after each written batch, inside the import's transaction: it must not wait on the database. */
  onProgress?: (progress: ImportProgress) => void;
}

/**
 * Imports Stream's import format (what a v2 export writes) in one transaction: a line that cannot be
 * imported leaves the database as it was. Every line upserts: an id already stored is replaced by the
 * line, so importing the same file again changes nothing. Returns the lines imported by type. Throws an
 * ImportLineError naming the first line that cannot be imported.
 */
export async function importLines(options: ImportOptions): Promise<ImportCounts> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError('batchSize must be a whole number, at least 1');
  let batch: ImportBatch | undefined;
  try {
    return await options.dialect.bulkWriteTransaction((trx, writer) =>
      importInTransaction(options, batchSize, trx, writer, (current) => (batch = current)),
    );
  } catch (error) {
    throw explainFailure(error, batch);
  }
}

async function importInTransaction(
  options: ImportOptions,
  batchSize: number,
  trx: Kysely<Database>,
  writer: BulkWriter,
  writing: (batch: ImportBatch | undefined) => void,
): Promise<ImportCounts> {
  const { clock, appId, input, onProgress } = options;
  const rowLocks = options.dialect.rowLocks;
  const now = () => clock.nowMicros();
  const stored = new StoredReferences();
  const withoutReactions = new ImportedWithoutReactions();
  // Into an app without messages, a line can only replace a row an earlier line of the import wrote.
  const appHadMessages = await hasMessages(trx, appId);
  const totals = emptyCounts();
  let bytesRead = 0;

  const batches = parseInput(input, {
    appId,
    batchSize,
    mode: options.parser ?? defaultParserMode(options.dialect),
    onRead: (size) => (bytesRead += size),
  });
  for await (const parsed of batches) {
    const batch = ImportBatch.from(parsed.batch);
    if (parsed.failure) throw await earlierFailure(trx, appId, stored, parsed.pending, parsed.failure);
    if (batch.size > 0) {
      for (const id of batch.messages.keys()) {
        if (appHadMessages || stored.hasMessage(id)) batch.maybeStoredMessages.add(id);
      }
      stampImportTime(batch, now);
      writing(batch);
      await writeBatch(
        { trx, writer, appId, rowLocks, appHadMessages, withoutReactions },
        batch,
        stored,
        parsed.pending,
      );
      writing(undefined);
      addCounts(totals, batch.counts);
    }
    onProgress?.({
      lines: parsed.lines,
      bytesRead,
      counts: { ...totals },
      parsedOn: parsed.onThread ? 'thread' : 'inline',
    });
  }
  return totals;
}

/**
 * `auto` where writing waits on another process (PostgreSQL), so a parser thread has the importer's
 * core to itself; `inline` on SQLite, where the importer's thread writes and must also take every
 * parsed batch off the thread (a structured clone of its records): measured on the 2-core bench
 * machine at load 4-6, 100k messages took 8.9 s with the thread against 5.6 s without, while on
 * PostgreSQL the thread took 8.6 s against 9.6 s.
 */
function defaultParserMode(dialect: DatabaseDialect): ParserMode {
  return dialect.name === 'postgres' ? 'auto' : 'inline';
}

async function hasMessages(trx: Kysely<Database>, appId: number): Promise<boolean> {
  const row = await trx
    .selectFrom('messages')
    .select('id')
    .where('app_id', '=', appId)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** What every batch of one import is written with. */
interface ImportWriting {
  trx: Kysely<Database>;
  writer: BulkWriter;
  appId: number;
  rowLocks: boolean;
  /** The app had messages when the import began: any line may replace a stored row. */
  appHadMessages: boolean;
  withoutReactions: ImportedWithoutReactions;
}

/** Writes one batch: checks references, then upserts in dependency order and refreshes the counters. */
async function writeBatch(
  { trx, writer, appId, rowLocks, appHadMessages, withoutReactions }: ImportWriting,
  batch: ImportBatch,
  stored: StoredReferences,
  pending: PendingReferences,
): Promise<void> {
  await stored.resolve(trx, appId, pending, rowLocks);
  await adoptStoredCreationTimes(trx, appId, batch);
  const counterTargets = await prepareImportCounters(trx, appId, batch, rowLocks);
  for (const { keep, rows } of rowsByKept(batch.users)) {
    await writer.upsert({ ...userTable, keepOnConflict: keep, rows });
  }
  for (const { keep, rows } of rowsByKept(batch.channels)) {
    await writer.upsert({ ...channelTable, keepOnConflict: keep, rows });
  }
  await writer.upsert({ ...memberTable, rows: rowsOf(batch.members) });
  await writer.upsert({ ...channelMuteTable, rows: rowsOf(batch.channelMutes) });
  const [newMessages, otherMessages] = partitionRows(
    batch.messages,
    ({ row }) => !batch.maybeStoredMessages.has(row.id),
  );
  const counted = countNewMessages(batch, counterTargets);
  if (!(await writer.insertNew({ ...messageTable, rows: newMessages }))) {
    // A key was stored after all: the upsert keeps that row's counters, so every one is recounted.
    await writer.upsert({ ...messageTable, rows: newMessages });
    restoreCounterTargets(counterTargets, counted);
  } else withoutReactions.add(counted.reactionless);
  await writer.upsert({ ...messageTable, rows: otherMessages });
  // Every message of an app that had none is the import's own, so are the reactions on them.
  if (appHadMessages) await writer.upsert({ ...reactionTable, rows: rowsOf(batch.reactions) });
  else await insertOrUpsert(writer, { ...reactionTable, rows: rowsOf(batch.reactions) });
  await refreshImportCounters(trx, writer, appId, counterTargets, withoutReactions);
}

/**
 * Inserts rows that should be new the cheaper way (PostgreSQL: COPY straight into the table), and
 * upserts them instead when one is stored after all: a line repeated in a later batch, or a row
 * someone else wrote meanwhile. Either way the rows end as the upsert leaves them.
 */
async function insertOrUpsert<T extends TableName, C extends ColumnOf<T>>(
  writer: BulkWriter,
  request: BulkUpsert<T, C>,
): Promise<void> {
  if (!(await writer.insertNew(request))) await writer.upsert(request);
}

/**
 * A line failed before its batch was written: an earlier line of the batch may name something missing
 * too, and the first bad line is the one to report.
 */
async function earlierFailure(
  trx: Kysely<Database>,
  appId: number,
  stored: StoredReferences,
  pending: PendingReferences,
  failure: LineFailure,
): Promise<ImportLineError> {
  try {
    await stored.resolve(trx, appId, pending, false);
  } catch (earlier) {
    if (earlier instanceof ImportLineError && earlier.line < failure.line) return earlier;
  }
  return new ImportLineError(failure.line, failure.field, failure.reason);
}

/** Line errors name their line already; a failure while writing names the lines being written. */
function explainFailure(error: unknown, batch: ImportBatch | undefined): unknown {
  if (error instanceof ImportLineError || batch === undefined) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new Error(
    `import failed writing lines ${batch.firstLine} to ${batch.lastLine} (nothing was imported): ${message}`,
    { cause: error },
  );
}
