import { ApiError, UnrecoverableError } from '../../lib/errors.js';
import type { StoredTaskError } from './tasks.types.js';

/** The abort reason when a heartbeat finds that another worker (or the reaper) took the attempt. */
export class LeaseLostError extends Error {
  constructor(taskId: string, attempt: number) {
    super(`task ${taskId}: the lease on attempt ${attempt} was lost`);
    this.name = 'LeaseLostError';
  }
}

/** The abort reason when the worker stops and its grace period for running handlers has passed. */
export class WorkerStoppedError extends Error {
  constructor() {
    super('the worker stopped');
    this.name = 'WorkerStoppedError';
  }
}

/**
 * The wait a request refused by the per-app cap is told to observe (`Retry-After`, in seconds): a
 * hint, long enough for a small export or a delete to finish and free a place.
 */
export const TASK_CAP_RETRY_AFTER_SECONDS = 5;

/** 429 code 9: the app already has as many tasks queued or running as CHATPORT_MAX_TASKS_PER_APP allows. */
export function taskCapReached(cap: number): ApiError {
  return new ApiError(
    'rateLimited',
    `this app already has ${cap} tasks queued or running, the most it may have; retry once some have finished`,
    undefined,
    { retryAfterSeconds: TASK_CAP_RETRY_AFTER_SECONDS },
  );
}

const DETAIL_MAX_LENGTH = 200;

/** The first line of a message, at most 200 characters: enough to recognise, never a stack trace. */
export function shortMessage(message: string): string {
  const firstLine = message.split('\n', 1)[0] ?? '';
  return firstLine.length > DETAIL_MAX_LENGTH ? `${firstLine.slice(0, DETAIL_MAX_LENGTH - 1)}…` : firstLine;
}

export interface FailureDescription {
  error: StoredTaskError;
  /** False for errors retrying cannot fix. */
  retryable: boolean;
  /** True when the next attempt need not back off. */
  immediate: boolean;
}

/**
 * What a failed attempt records. An UnrecoverableError's type and message are meant for the client and
 * fail the task at once; any other error is internal: its message is kept only as `detail`.
 */
export function describeFailure(
  error: unknown,
  { attempt, maxAttempts, signal }: { attempt: number; maxAttempts: number; signal?: AbortSignal },
): FailureDescription {
  if (error instanceof UnrecoverableError) {
    // The message is for the client; what caused it (a driver's error naming paths) only for operators.
    const cause = error.cause instanceof Error ? { detail: shortMessage(error.cause.message) } : {};
    return {
      error: { type: error.type, description: shortMessage(error.message), ...cause },
      retryable: false,
      immediate: false,
    };
  }
  if (signal?.aborted && signal.reason instanceof WorkerStoppedError) {
    return {
      error: { type: 'worker_stopped', description: `the worker stopped during attempt ${attempt}` },
      retryable: true,
      immediate: true,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    error: {
      type: 'internal',
      description: `internal error on attempt ${attempt} of ${maxAttempts}`,
      detail: shortMessage(message),
    },
    retryable: true,
    immediate: false,
  };
}
