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
