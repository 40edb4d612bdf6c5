/**
 * The durable task queue: background work (user and channel deletes, exports) kept in the `tasks`
 * table, so it survives restarts and crashes and can be run by any process sharing the database.
 *
 * Glossary
 * - task: one row of `tasks`; `kind` names its handler, `payload` (JSON) its input.
 * - status, with Stream's names (what `GET /tasks/{id}` answers):
 *   - `waiting`: queued, no attempt has started yet (`attempt` = 0).
 *   - `running`: a worker holds its lease and runs attempt number `attempt`.
 *   - `pending`: an attempt failed (or its worker vanished); the task backs off until `run_after`,
 *     then the next attempt may start.
 *   - `completed` (terminal): an attempt finished; `result` holds its output, maybe a `file_key`.
 *   - `failed` (terminal): an error that retrying cannot fix, or the attempts ran out; `error` says why.
 *   Every path ends terminal: failures retry at most `max_attempts` times in all, and a running task
 *   whose worker dies is reaped when its lease expires.
 * - attempt: how many attempts have started, incremented by each claim. It never goes down, so
 *   (id, attempt, lease_owner) names one attempt for good.
 * - lease: the right to run one attempt, held by `lease_owner` (a worker id) until `lease_expires_at`.
 *   The worker renews it by heartbeat while its handler runs.
 * - fence: every write a worker makes about an attempt (heartbeat, complete, fail) matches
 *   `id, attempt, status = 'running', lease_owner`. A worker that lost its lease matches nothing, so
 *   it can never publish a result or overwrite the attempt that replaced it.
 * - reaper: the periodic sweep, run in every worker, that sends `running` tasks whose lease expired
 *   back to `pending` (or to `failed` with type `lease_expired` when their attempts are used up).
 * - backoff: the wait before the next attempt, `min(base * 2^(attempt-1), cap)` (see tasks.retry.ts).
 * - kind: one kind of work (`TaskKind`), declared by the feature that does it: its name, payload
 *   parser, handler and result presenter. The runtime registers every kind (src/task-kinds.ts).
 * - handler: the function that does one kind of work; `TaskHandlers` maps kinds to handlers.
 * - presenter: renders a completed task's `result` for the status routes, per kind.
 * - progress: JSON a running attempt records now and then (its kind's fields, e.g. an export's
 *   counts), served by the status routes while the task runs or waits for its next attempt.
 * - checkpoint: JSON an attempt records together with its progress, handed to the next attempt
 *   (`TaskInvocation.checkpoint`) so it can resume where a dead or failed one left off. Owned by the
 *   kind: the queue stores it and never reads it. Cleared when the task completes.
 * - end hook: work another feature does in the transaction that ends a task of the kinds it watches
 *   (`TaskEndHook`), e.g. queueing the webhook that announces an export's end.
 *
 * Times are microseconds since the epoch (lib/time.ts), read from the injected clock of the process
 * doing the write: processes sharing a queue need clocks that agree to well within a lease.
 */
import type { Kysely } from 'kysely';
import type { Config } from '../../config.js';
import type { Context } from '../../context.js';
import type { AppRow, Database, TaskRow } from '../../database/database.types.js';
import type { RetryPolicy } from './tasks.retry.js';

export type { TaskRow };

export const taskStatuses = ['waiting', 'pending', 'running', 'completed', 'failed'] as const;
export type TaskStatus = (typeof taskStatuses)[number];

/** The statuses a worker may claim from. */
export const claimableStatuses: readonly TaskStatus[] = ['waiting', 'pending'];

/** The statuses of a task not finished yet: queued, backing off, or running. The per-app cap counts them. */
export const activeStatuses: readonly TaskStatus[] = ['waiting', 'pending', 'running'];

/** Attempts a task gets when the enqueuer does not say, failures and expired leases alike. */
export const DEFAULT_MAX_ATTEMPTS = 5;

/** What a client sees of a failed task: `error: {type, description}`. */
export interface TaskError {
  /** Short machine-readable type, e.g. `channel_not_found`, `lease_expired`, `internal`. */
  type: string;
  /** One line for people. Never a stack trace, never an internal error's message. */
  description: string;
}

/** The `error` column: the client's part plus, for internal errors, a short message for operators. */
export interface StoredTaskError extends TaskError {
  /** The first line of an internal error's message, cut short. Logged and stored; never served. */
  detail?: string;
}

/** Names one attempt: every fenced write matches all three. */
export interface TaskLease {
  id: string;
  attempt: number;
  /** The worker id that claimed the attempt. */
  owner: string;
}

/** A file an attempt published (exports): kept on the task, deleted by retention after `expiresAt`. */
export interface TaskFile {
  /** Storage key of the file. */
  key: string;
  /** Microseconds: when the retention sweeper deletes it. */
  expiresAt: number;
}

/** What a handler returns when its work is done. */
export interface TaskOutcome {
  /** Stored as the task's result JSON, served as `result` by the default presenter. */
  result: Record<string, unknown>;
  /** The file the attempt published, if any. */
  file?: TaskFile;
}

/** What a handler is told about the task it runs. */
export interface TaskInvocation<Payload = unknown> {
  id: string;
  appId: number;
  kind: string;
  /**
   * The payload given to the enqueuer. A TaskKind's `run` gets it checked by the kind's parsePayload;
   * a bare TaskHandler gets it as parsed from JSON, to validate before use.
   */
  payload: Payload;
  /** 1 on the first attempt. */
  attempt: number;
  /**
   * The checkpoint an earlier attempt recorded (parsed JSON, unchecked: validate before use), or null
   * when none did. The kind decides whether and how to resume from it.
   */
  checkpoint: unknown;
}

/** What a running attempt records about itself (tasks.progress.ts). */
export interface TaskProgressUpdate {
  /** Replaces the task's progress, served by the status routes while it runs. */
  progress: Record<string, unknown>;
  /** Replaces the checkpoint the next attempt gets; left out: the stored one stays. */
  checkpoint?: Record<string, unknown> | null;
}

/** What one attempt of a task is run with. */
export interface TaskRunArgs<Payload = unknown> {
  context: Context;
  task: TaskInvocation<Payload>;
  /** Aborts when the lease is lost or the worker stops: stop then, as nothing more can be recorded. */
  signal: AbortSignal;
  /**
   * Records progress (and a checkpoint) in one fenced write. Rejects with LeaseLostError, aborting
   * `signal`, when this attempt no longer holds its lease. Meant for every few seconds, not every row.
   */
  saveProgress(update: TaskProgressUpdate): Promise<void>;
}

/**
 * Does the work of one kind of task. Throw `UnrecoverableError` to fail at once (its `type` and
 * message become the task's error); any other error is retried with backoff. `signal` aborts when
 * the lease is lost or the worker stops: stop then, as nothing more the attempt does can be recorded.
 */
export type TaskHandler = (args: TaskRunArgs) => Promise<TaskOutcome>;

/** Handlers by task kind. A task whose kind has none fails with type `unknown_kind`. */
export type TaskHandlers = Record<string, TaskHandler>;

/**
 * One kind of background work, declared by the feature that does it (e.g. exports declare
 * `export-channels`) and registered by the runtime, which hands every kind to the worker and to the
 * status routes. The queue itself knows no kind.
 */
export interface TaskKind<Payload = unknown> {
  /** Stored in `tasks.kind`. Queued tasks name it, so a kind that has shipped keeps its name. */
  readonly kind: string;
  /**
   * Checks a stored payload (parsed back from JSON) and types it, before every attempt. Throws
   * UnrecoverableError type `invalid_payload` when the task cannot run (see tasks.payload.ts).
   */
  parsePayload(payload: unknown): Payload;
  /** Runs one attempt, as a TaskHandler does, with the payload parsed. */
  run(args: TaskRunArgs<Payload>): Promise<TaskOutcome>;
  /** Renders a completed task's `result` on every status request. Default: the stored result JSON. */
  presentResult?(task: TaskStatusRow, presentation: TaskPresentation): PresentedResult;
  /** The backoff between its failed attempts. Default: the worker's (1 s doubling up to 5 min). */
  retryPolicy?(config: Config): RetryPolicy;
}

/** A task that has just ended for good, as the end hooks watching its kind are told. */
export interface EndedTask {
  id: string;
  appId: number;
  kind: string;
  status: 'completed' | 'failed';
  /** The result stored for a completed task, as its handler returned it. */
  result?: Record<string, unknown>;
  /** What clients see of a failed task's error. */
  error?: TaskError;
  /** Microseconds: when the task was queued. */
  createdAt: number;
  /** Microseconds: when its last attempt started. */
  startedAt: number | null;
  /** Microseconds: when it ended. */
  finishedAt: number;
}

/**
 * Work that must commit together with a task's end, or not at all: it runs on `db`, the transaction
 * that marks a task of its kinds `completed`, or `failed` for good (by its worker or by the reaper).
 * It never runs for an attempt that lost its lease, as that attempt ended nothing. When it throws, the
 * end rolls back and the attempt counts as failed (retried like any other).
 */
export interface TaskEndHook {
  /** The kinds whose end it watches. */
  readonly kinds: readonly string[];
  onEnd(args: { db: Kysely<Database>; context: Context; task: EndedTask }): Promise<void>;
}

/** What the status routes read of a task, and all a presenter sees of it. */
export type TaskStatusRow = Pick<
  TaskRow,
  | 'id'
  | 'app_id'
  | 'kind'
  | 'status'
  | 'created_at'
  | 'updated_at'
  | 'result'
  | 'error'
  | 'file_key'
  | 'file_expires_at'
  | 'file_deleted_at'
  | 'progress'
>;

/** What a presenter may use: the process context and the app asking. */
export interface TaskPresentation {
  context: Context;
  app: AppRow;
}

type PresentedResult = Promise<Record<string, unknown>> | Record<string, unknown>;

/**
 * Renders a completed task's `result` on every status request, e.g. to re-sign an export's download
 * link. Without one for its kind, a task's stored result JSON is served as it is.
 */
export type TaskPresenter = (task: TaskStatusRow, presentation: TaskPresentation) => PresentedResult;

/** Presenters by task kind. */
export type TaskPresenters = Record<string, TaskPresenter>;
