import { UnrecoverableError } from '../../lib/errors.js';

/** A key that no driver may use: absolute, climbing out with `..`, empty segments, odd characters. */
export class InvalidStorageKeyError extends Error {
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`invalid storage key ${JSON.stringify(key)}: ${reason}`);
    this.name = 'InvalidStorageKeyError';
  }
}

/** `openRead` of a key with no committed object (never written, deleted, or not committed yet). */
export class StorageObjectNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`no stored object under ${JSON.stringify(key)}`);
    this.name = 'StorageObjectNotFoundError';
  }
}

/** Why a storage operation failed for good, as the failed task's `error.type` says it. */
export type PermanentStorageFailure =
  /** No space left: a full disk, a quota, a store at its capacity. */
  | 'storage_full'
  /** The store refused: permissions, a read-only file system, credentials, a missing bucket. */
  | 'storage_refused';

/**
 * A storage error that retrying cannot fix. An UnrecoverableError, so a task that meets one fails at
 * once with this type and message (both written for the client: they name the cause, never a path);
 * the driver's own error stays as `cause`, for the logs.
 */
export class PermanentStorageError extends UnrecoverableError {
  constructor(
    readonly failure: PermanentStorageFailure,
    description: string,
    options: { cause: unknown },
  ) {
    super(description, failure);
    this.name = 'PermanentStorageError';
    this.cause = options.cause;
  }
}
