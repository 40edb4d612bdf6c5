/**
 * Progress and checkpoints of a running export (channel or user export).
 *
 * - position: a point in the file the writer can carry on from (after a given message of a given
 *   target, in a given phase), with `bytes`, the file's length at that point, and the counts so far.
 *   The writer reports one after every page it has handed to the storage.
 * - checkpoint: the latest position the storage holds durably, with the storage's savepoint (how many
 *   bytes it holds, and its own state to continue the write). A savepoint may hold more bytes than the
 *   position (local disk: exactly as many; S3: whole parts, which may end inside a later page, or fewer,
 *   so the position chosen is the last one at or before them). A resumed attempt writes the file on from
 *   the position and drops the first `savepoint.bytes - bytes` bytes it produces, which are stored
 *   already: the file comes out byte for byte as one attempt would have written it.
 *
 * Both are recorded in the task row (TaskRunArgs.saveProgress), at most every
 * CHATPORT_EXPORT_CHECKPOINT_MS, at the end of a page.
 */
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { MICROS_PER_MILLI, type Clock } from '../../lib/time.js';
import type { PendingWrite, StorageDriver, WriteSavepoint } from '../storage/storage.types.js';
import type { TaskProgressUpdate } from '../tasks/tasks.types.js';

const Count = Type.Integer({ minimum: 0 });

/** Where in the file a writer can carry on from. */
export const ExportPosition = Type.Object({
  /** Channel exports: `messages` (v1 and v2), then `reactions` (v2); user exports: `messages`. */
  phase: Type.Union([Type.Literal('messages'), Type.Literal('reactions')]),
  /** Index of the channel (or user) in the export's list. */
  target: Type.Integer({ minimum: 0 }),
  /** The last message whose entities are in the file. */
  after: Type.Object({ createdAt: Type.Integer(), id: Type.String() }),
});
export type ExportPosition = Static<typeof ExportPosition>;

/** The counts the result reports, so far. */
const Counts = Type.Record(Type.String(), Count);

/** What an export records in its task's `checkpoint`. */
export const ExportCheckpoint = Type.Object({
  /** The storage key the file is written to (the attempt that started it names it). */
  key: Type.String(),
  /** What the file holds, one entry per target in order: a checkpoint of another list is not resumed. */
  targets: Type.Array(Type.String()),
  /** null: the start of the file. */
  position: Type.Union([ExportPosition, Type.Null()]),
  /** The file's length at the position. */
  bytes: Count,
  counts: Counts,
  savepoint: Type.Object({ bytes: Count, state: Type.Record(Type.String(), Type.Unknown()) }),
  /** Channel exports: the change mark the first attempt took, which the export's cursor reports. */
  mark: Type.Optional(Type.String()),
});
export type ExportCheckpoint = Static<typeof ExportCheckpoint>;
const checkpointValidator = Compile(ExportCheckpoint);

/** A running export's `progress`, as the status routes serve it. */
export interface ExportProgress {
  messages_done: number;
  /** Counted when the attempt started: an estimate, as messages may come and go meanwhile. */
  messages_total: number;
  bytes_written: number;
  /** 0 to 99 while the task runs: 100 is for the completed task, whose result has the final counts. */
  percent: number;
}

export function exportProgress(done: number, total: number, bytes: number): ExportProgress {
  const percent = total === 0 ? 0 : Math.min(99, Math.floor((100 * done) / total));
  return { messages_done: done, messages_total: total, bytes_written: bytes, percent };
}

/** The checkpoint of a task, when it is one this export can resume (same targets), else undefined. */
export function resumableCheckpoint(stored: unknown, targets: string[]): ExportCheckpoint | undefined {
  if (!checkpointValidator.Check(stored)) return undefined;
  if (stored.targets.length !== targets.length || stored.targets.some((t, i) => t !== targets[i]))
    return undefined;
  if (stored.savepoint.bytes < stored.bytes) return undefined;
  return stored;
}

/** Where an attempt starts writing: the file's start, or a checkpoint's position. */
export interface ExportStart<Counts> {
  key: string;
  write: PendingWrite;
  position: ExportPosition | null;
  counts: Counts;
  /** The file's length at the position. */
  bytes: number;
  /** Bytes the storage holds past the position: the first this many produced are dropped. */
  skip: number;
  /** The checkpoint resumed, if any. */
  resumed: ExportCheckpoint | undefined;
}

/**
 * Opens the write of an attempt: the checkpoint's, continued where it left off, when there is one and
 * the storage still holds it; otherwise a new write to `freshKey`, from the start.
 */
export async function openExportWrite<Counts extends Record<string, number>>(args: {
  storage: StorageDriver;
  checkpoint: unknown;
  targets: string[];
  freshKey: string;
  zero: Counts;
}): Promise<ExportStart<Counts>> {
  const checkpoint = resumableCheckpoint(args.checkpoint, args.targets);
  if (checkpoint) {
    const write = await args.storage.resumeWrite(checkpoint.key, checkpoint.savepoint);
    if (write) {
      return {
        key: checkpoint.key,
        write,
        position: checkpoint.position,
        counts: { ...args.zero, ...checkpoint.counts } as Counts,
        bytes: checkpoint.bytes,
        skip: checkpoint.savepoint.bytes - checkpoint.bytes,
        resumed: checkpoint,
      };
    }
  }
  return {
    key: args.freshKey,
    write: await args.storage.openWrite(args.freshKey),
    position: null,
    counts: { ...args.zero },
    bytes: 0,
    skip: 0,
    resumed: undefined,
  };
}

/**
 * What a resumed attempt's result tells about the resume: the bytes it found stored, the messages
 * written before it, and the messages it read itself. Nothing for an attempt that started afresh.
 */
export function resumedFields(
  start: ExportStart<Record<string, number>>,
  messagesWritten: number,
): { resumed?: { bytes_kept: number; messages_kept: number; messages_read: number } } {
  if (!start.resumed) return {};
  const kept = start.counts.messages ?? 0;
  return {
    resumed: {
      bytes_kept: start.bytes + start.skip,
      messages_kept: kept,
      messages_read: messagesWritten - kept,
    },
  };
}

interface Reached {
  position: ExportPosition | null;
  counts: Record<string, number>;
  bytes: number;
}

/**
 * Records an export's progress and checkpoint every `everyMillis` (0: after every page), when the
 * writer reports a position. A record is made while the writer goes on: the storage's savepoint waits
 * for the disk (an fsync), and the writer would otherwise stand still meanwhile; one record at a time,
 * and a report that comes while one is being made starts none. `finish` waits for the last one.
 * `saved` tells whether any checkpoint was recorded by this attempt (a failed attempt then keeps its
 * temporary for the next one).
 */
export class ExportCheckpointer {
  private readonly candidates: Reached[] = [];
  private base: Reached;
  private lastSavedAt: number;
  private messagesDone: number;
  /** The record being made, if any. */
  private saving: Promise<void> | undefined;
  /** What made a record fail: reported by the next `reached`, or by `finish`. */
  private failure: { error: unknown } | undefined;
  saved = false;

  constructor(
    private readonly options: {
      clock: Clock;
      everyMillis: number;
      save: (update: TaskProgressUpdate) => Promise<void>;
      start: ExportStart<Record<string, number>>;
      targets: string[];
      messagesTotal: number;
      /** Messages done, from the counts. */
      done: (counts: Record<string, number>) => number;
      /** False: record progress only, no checkpoint (a writer that cannot resume). Default true. */
      resumable?: boolean;
      /** Kept in the checkpoint for the attempt that resumes it (ExportCheckpoint.mark). */
      mark?: string;
    },
  ) {
    const { start } = options;
    this.base = { position: start.position, counts: { ...start.counts }, bytes: start.bytes };
    this.lastSavedAt = options.clock.nowMicros();
    this.messagesDone = options.done(start.counts);
  }

  /**
   * The writer's report after a page: the file is `bytes` long, with `counts`, at `position` (none
   * when the page ended where no message key tells the place: the last of a channel).
   */
  async reached(
    position: ExportPosition | undefined,
    counts: Record<string, number>,
    bytes: number,
  ): Promise<void> {
    if (this.failure) throw this.failure.error;
    if (position) this.candidates.push({ position, counts: { ...counts }, bytes });
    this.messagesDone = this.options.done(counts);
    if (this.saving) return;
    const now = this.options.clock.nowMicros();
    if (now - this.lastSavedAt < this.options.everyMillis * MICROS_PER_MILLI) return;
    this.lastSavedAt = now;
    this.saving = this.save(bytes).then(
      () => {
        this.saving = undefined;
      },
      (error: unknown) => {
        this.saving = undefined;
        this.failure ??= { error };
      },
    );
  }

  /** Waits for the record being made, if any; rejects if any record failed. */
  async finish(): Promise<void> {
    await this.saving;
    if (this.failure) throw this.failure.error;
  }

  /**
   * Records the progress at `bytes`, and the latest position the storage holds durably at or before
   * `bytes` (the savepoint may hold more: pages written since the record began).
   */
  private async save(bytes: number): Promise<void> {
    const { start, targets, messagesTotal } = this.options;
    const progress = { ...exportProgress(this.messagesDone, messagesTotal, bytes) };
    if (this.options.resumable === false) {
      await this.options.save({ progress });
      return;
    }
    const savepoint: WriteSavepoint = await start.write.savepoint();
    const durable = Math.min(bytes, savepoint.bytes);
    while (this.candidates.length > 0 && this.candidates[0]!.bytes <= durable)
      this.base = this.candidates.shift()!;
    const checkpoint: ExportCheckpoint = {
      key: start.key,
      targets,
      position: this.base.position,
      bytes: this.base.bytes,
      counts: this.base.counts,
      savepoint,
      ...(this.options.mark === undefined ? {} : { mark: this.options.mark }),
    };
    await this.options.save({
      progress,
      checkpoint: checkpoint as unknown as Record<string, unknown>,
    });
    this.saved = true;
  }
}
