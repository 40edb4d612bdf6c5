/**
 * The bulk ingest path, and the way back in for v2 exports: reads Stream's import format line by line,
 * checks each line, and writes the lines in batches, one transaction a batch (docs/imports.md).
 *
 * Glossary: a *line* is one `{"type","data"}` entity; a *record* is the row a line becomes; a *batch*
 * is the records written in one transaction; a *reference* is an id a line names (a message's user,
 * a reaction's message) that must exist in the database or on an earlier line.
 */
import type { DatabaseDialect } from '../../database/database.js';
import type { Clock } from '../../lib/time.js';
import {
  addCounts,
  emptyCounts,
  ImportBatch,
  rowsByKept,
  rowsOf,
  type ImportCounts,
} from './import-batch.js';
import { refreshImportCounters } from './import-counters.js';
import { readLineChunks, type ImportInput } from './import-line-reader.js';
import { parseImportLine } from './import-records.js';
import { ImportReferences } from './import-references.js';
import { adoptStoredCreationTimes } from './import-stored-times.js';
import { channelTable, memberTable, messageTable, reactionTable, userTable } from './import-tables.js';
import { ImportLineError } from './imports.errors.js';

export type { ImportCounts } from './import-batch.js';
export type { ImportInput } from './import-line-reader.js';

/** Lines a transaction writes when the caller does not say. */
export const DEFAULT_BATCH_SIZE = 20_000;

export interface ImportProgress {
  /** Lines read and committed so far (blank lines included). */
  lines: number;
  /** Input consumed so far: bytes for byte input, characters for text. */
  bytesRead: number;
  /** Lines committed, by type. */
  counts: ImportCounts;
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
   * Lines written per transaction, default 20,000. A file of at most this many lines imports all or
   * nothing; a longer one keeps the batches committed before a failing line.
   */
  batchSize?: number;
  /** Called after each committed batch. */
  onProgress?: (progress: ImportProgress) => void;
}

function isBlank(line: string): boolean {
  return line.length === 0 || (line.charCodeAt(0) <= 32 && line.trim() === '');
}

/**
 * Imports Stream's import format (what a v2 export writes). Every line upserts: an id already stored is
 * replaced by the line, so importing the same file again changes nothing. Returns the lines imported
 * by type. Throws an ImportLineError naming the first line that cannot be imported.
 */
export async function importLines(options: ImportOptions): Promise<ImportCounts> {
  const { dialect, clock, appId, input, onProgress } = options;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError('batchSize must be a whole number, at least 1');
  const now = () => clock.nowMicros();
  const references = new ImportReferences();
  const totals = emptyCounts();
  let batch = new ImportBatch();
  let lineNumber = 0;
  let importedLines = 0;
  let bytesRead = 0;

  const commit = async () => {
    if (batch.size > 0) {
      try {
        await writeBatch(dialect, appId, batch, references);
      } catch (error) {
        throw explainFailure(error, batch, importedLines);
      }
      addCounts(totals, batch.counts);
      references.endBatch();
      batch = new ImportBatch();
    }
    importedLines = lineNumber;
    onProgress?.({ lines: importedLines, bytesRead, counts: { ...totals } });
  };

  for await (const lines of readLineChunks(input, (size) => (bytesRead += size))) {
    for (const text of lines) {
      lineNumber++;
      if (isBlank(text)) continue;
      try {
        const record = parseImportLine(text, lineNumber, appId, now);
        references.take(record);
        batch.add(record);
      } catch (error) {
        if (!(error instanceof ImportLineError)) throw error;
        throw (await earlierFailure(dialect, appId, references, error)).afterImporting(importedLines);
      }
      if (batch.size >= batchSize) await commit();
    }
  }
  await commit();
  return totals;
}

/** Writes one batch in one transaction: checks references, then upserts in dependency order. */
async function writeBatch(
  dialect: DatabaseDialect,
  appId: number,
  batch: ImportBatch,
  references: ImportReferences,
): Promise<void> {
  await dialect.bulkWriteTransaction(async (trx, writer) => {
    await references.resolve(trx, appId);
    await adoptStoredCreationTimes(trx, appId, batch);
    for (const { keep, rows } of rowsByKept(batch.users)) {
      await writer.upsert({ ...userTable, keepOnConflict: keep, rows });
    }
    for (const { keep, rows } of rowsByKept(batch.channels)) {
      await writer.upsert({ ...channelTable, keepOnConflict: keep, rows });
    }
    await writer.upsert({ ...memberTable, rows: rowsOf(batch.members) });
    await writer.upsert({ ...messageTable, rows: rowsOf(batch.messages) });
    await writer.upsert({ ...reactionTable, rows: rowsOf(batch.reactions) });
    await refreshImportCounters(trx, writer, appId, batch);
  });
}

/**
 * A line failed before its batch was written: an earlier line of the batch may name something missing
 * too, and the first bad line is the one to report.
 */
async function earlierFailure(
  dialect: DatabaseDialect,
  appId: number,
  references: ImportReferences,
  failure: ImportLineError,
): Promise<ImportLineError> {
  try {
    await references.resolve(dialect.db, appId);
  } catch (earlier) {
    if (earlier instanceof ImportLineError && earlier.line < failure.line) return earlier;
  }
  return failure;
}

function explainFailure(error: unknown, batch: ImportBatch, importedLines: number): unknown {
  if (error instanceof ImportLineError) return error.afterImporting(importedLines);
  const message = error instanceof Error ? error.message : String(error);
  const outcome = importedLines === 0 ? 'nothing was imported' : `lines 1 to ${importedLines} were imported`;
  return new Error(
    `import failed writing lines ${batch.firstLine} to ${batch.lastLine} (${outcome}): ${message}`,
    { cause: error },
  );
}
