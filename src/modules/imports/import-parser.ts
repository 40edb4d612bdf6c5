/**
 * The parsing half of an import, which needs no database: input items → lines → records, checked on
 * their own and against what earlier lines defined, gathered into batches. Each batch leaves with the
 * references it names that only the database can confirm (import-references.ts); the importer
 * checks those and writes the batch (imports.usecases.ts).
 *
 * Its whole state is plain data (`snapshot`), so a parser can start on the importer's thread and be
 * handed to the parser thread halfway through its input (import-parser-thread.ts).
 */
import { ImportBatch, type ImportBatchState } from './import-batch.js';
import { LineSplitter, type LineSplitterState } from './import-line-reader.js';
import { parseImportLine } from './import-records.js';
import { FileReferences, type FileReferencesState, type PendingReferences } from './import-references.js';
import { ImportLineError } from './imports.errors.js';

/** A line that cannot be imported, as plain data (an ImportLineError does not cross threads). */
export interface LineFailure {
  line: number;
  field: string;
  reason: string;
}

/** A batch ready for the database. */
export interface ParsedBatch {
  batch: ImportBatchState;
  /** References of the batch's lines the database must confirm before it is written. */
  pending: PendingReferences;
  /** Lines read so far, blank ones included: the number of the last line the batch saw. */
  lines: number;
  /**
   * The first line that cannot be imported, when parsing stopped there: the batch then holds the
   * lines before it, which are checked (an earlier line may fail too) but never written.
   */
  failure?: LineFailure;
  /** The input's last batch (possibly empty), or the one with the failure: nothing follows. */
  last: boolean;
  /** Parsed on the parser thread (set by the importer's side as it arrives). */
  onThread?: boolean;
}

export interface ImportParserState {
  appId: number;
  batchSize: number;
  lineNumber: number;
  splitter: LineSplitterState;
  references: FileReferencesState;
  batch: ImportBatchState;
  /** Parsing stopped at a failure: every later item is ignored. */
  stopped: boolean;
}

/**
 * Records are built with a missing `created_at` as 0: the importer stamps them with its clock before
 * writing (import-stored-times.ts), where "now" is defined for the whole import.
 */
const UNSTAMPED = () => 0;

function isBlank(line: string): boolean {
  return line.length === 0 || (line.charCodeAt(0) <= 32 && line.trim() === '');
}

export class ImportParser {
  private readonly state: ImportParserState;
  private readonly splitter: LineSplitter;
  private readonly references: FileReferences;
  private batch: ImportBatch;

  constructor(state: ImportParserState | { appId: number; batchSize: number; itemsAreWholeLines: boolean }) {
    if ('splitter' in state) {
      this.state = state;
    } else {
      this.state = {
        appId: state.appId,
        batchSize: state.batchSize,
        lineNumber: 0,
        splitter: new LineSplitter({ itemsAreWholeLines: state.itemsAreWholeLines }).snapshot(),
        references: new FileReferences().snapshot(),
        batch: new ImportBatch(),
        stopped: false,
      };
    }
    this.splitter = new LineSplitter(this.state.splitter);
    this.references = new FileReferences(this.state.references);
    this.batch = ImportBatch.from(this.state.batch);
  }

  /** The parser as plain data, to resume from with `new ImportParser(state)` on any thread. */
  snapshot(): ImportParserState {
    return {
      ...this.state,
      splitter: this.splitter.snapshot(),
      references: this.references.snapshot(),
      batch: this.batch,
    };
  }

  /** Reads an input item; returns the batches it completes (the last one with a failure, if any). */
  push(item: string | Uint8Array): ParsedBatch[] {
    if (this.state.stopped) return [];
    return this.take(this.splitter.push(item), false);
  }

  /** The input ended: returns what is left, always ending with a batch marked `last`. */
  end(): ParsedBatch[] {
    if (this.state.stopped) return [];
    return this.take(this.splitter.end(), true);
  }

  private take(lines: string[], ending: boolean): ParsedBatch[] {
    const done: ParsedBatch[] = [];
    const { appId, batchSize } = this.state;
    for (const text of lines) {
      const line = ++this.state.lineNumber;
      if (isBlank(text)) continue;
      try {
        const record = parseImportLine(text, line, appId, UNSTAMPED);
        if (record.kind === 'message' && this.references.mayBeWritten(record.row.id)) {
          this.batch.maybeStoredMessages.add(record.row.id);
        }
        this.references.take(record);
        this.batch.add(record);
      } catch (error) {
        if (!(error instanceof ImportLineError)) throw error;
        this.state.stopped = true;
        done.push(this.cut(false, { line: error.line, field: error.field, reason: error.reason }));
        return done;
      }
      if (this.batch.size >= batchSize) done.push(this.cut(false));
    }
    if (ending) {
      this.state.stopped = true;
      done.push(this.cut(true));
    }
    return done;
  }

  private cut(last: boolean, failure?: LineFailure): ParsedBatch {
    const parsed: ParsedBatch = {
      batch: this.batch,
      pending: this.references.takePending(),
      lines: this.state.lineNumber,
      last: last || failure !== undefined,
    };
    if (failure) parsed.failure = failure;
    this.references.endBatch();
    this.batch = new ImportBatch();
    return parsed;
  }
}
