/**
 * Glossary of file storage.
 * - key: a relative, slash-separated name of one object, e.g. `exports/<appId>/<taskId>/<name>.json`
 *   (see storage.keys.ts for what is allowed). A driver maps it to a path, an S3 object key, ...
 * - object: the committed bytes under a key. Only committed objects are visible to `stat` and `openRead`.
 * - write: an open attempt to store an object. Its bytes are invisible until `commit`, which publishes
 *   them atomically (replacing an older object of the same key); `abort` leaves nothing behind.
 * - temporary: what an uncommitted write keeps meanwhile (a hidden file, an S3 multipart upload). A
 *   process that dies mid-write leaves one behind; `sweepTemporary` removes those of dead attempts.
 */
import type { Readable, Writable } from 'node:stream';

/** What a driver knows about a committed object. */
export interface StoredObject {
  /** Bytes. */
  size: number;
  /** A quoted HTTP entity tag that changes whenever the content does, e.g. `"9f86d0..."`. */
  etag: string;
  /** When the object was committed, in microseconds since the epoch (the storage's own clock). */
  modifiedAt: number;
}

/** An inclusive byte range, as in HTTP's `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

/** The result of a commit: what `stat` answers from now on. */
export interface CommittedObject {
  size: number;
  etag: string;
}

/**
 * An open write. Pipe the content into `stream` (it applies backpressure), then `commit`. Every write
 * must end in `commit` or `abort`, which release what it holds (a file handle, an upload). Calling
 * `abort` after a successful commit does nothing, so `finally { await write.abort() }` is always safe.
 */
export interface PendingWrite {
  /** Where the bytes go. Ending it is optional: `commit` ends it when the caller has not. */
  readonly stream: Writable;
  /** Waits for every byte to be stored durably, then makes the object visible under its key at once. */
  commit(): Promise<CommittedObject>;
  /** Discards the bytes written so far; the key keeps whatever it had before. */
  abort(): Promise<void>;
}

/** A leftover of a write that was neither committed nor aborted. */
export interface TemporaryObject {
  /** The driver's name for it (a path under the root, an upload id): for logs. */
  name: string;
  /**
   * When it was last written to, in microseconds since the epoch (the storage's own clock); where the
   * storage only knows when the write started (S3 multipart uploads), that.
   */
  modifiedAt: number;
}

/**
 * The storage every driver implements: local disk now, S3 next. Every method rejects an invalid key
 * with `InvalidStorageKeyError` (storage.errors.ts).
 */
export interface StorageDriver {
  /** The name chosen by CHATPORT_STORAGE, e.g. `local`. */
  readonly name: string;
  /** Starts a write to `key`. Nothing is visible under `key` until the write commits. */
  openWrite(key: string): Promise<PendingWrite>;
  /** The committed object under `key`, or undefined when there is none. */
  stat(key: string): Promise<StoredObject | undefined>;
  /**
   * The content of the committed object, or only the bytes of `range` (clamped to the object's end).
   * Rejects with `StorageObjectNotFoundError` when there is no such object.
   */
  openRead(key: string, range?: ByteRange): Promise<Readable>;
  /** Deletes the object under `key`; true when there was one. Deleting nothing is not an error. */
  delete(key: string): Promise<boolean>;
  /**
   * Temporaries last written to before `olderThanMicros` (wall-clock microseconds). A live write keeps
   * its temporary fresh while bytes flow, so a threshold well in the past only finds dead attempts.
   */
  listTemporary(olderThanMicros: number): Promise<TemporaryObject[]>;
  /** Removes the temporaries `listTemporary(olderThanMicros)` finds; answers how many it removed. */
  sweepTemporary(olderThanMicros: number): Promise<number>;
}
