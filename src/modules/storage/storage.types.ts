/**
 * Glossary of file storage.
 * - key: a relative, slash-separated name of one object, e.g. `exports/<appId>/<taskId>/<name>.json`
 *   (see storage.keys.ts for what is allowed). A driver maps it to a path, an S3 object key, ...
 * - object: the committed bytes under a key. Only committed objects are visible to `stat` and `openRead`.
 * - write: an open attempt to store an object. Its bytes are invisible until `commit`, which publishes
 *   them atomically (replacing an older object of the same key); `abort` leaves nothing behind.
 * - temporary: what an uncommitted write keeps meanwhile (a hidden file, an S3 multipart upload). A
 *   process that dies mid-write leaves one behind; the retention sweeper finds it with `listTemporary`
 *   and removes it with `removeTemporary` once the attempt that wrote it is over.
 * - presigned link: a URL that reads one object straight from the store, without credentials, until it
 *   expires. Only stores that serve clients themselves make them (S3); chatport serves local files.
 *
 * Resuming (not built yet): a write is one temporary that grows by appends (a hidden file, the parts of
 * one multipart upload), never a chain of pieces, so a later `openWrite(key, { resume })` can reopen a
 * dead attempt's temporary where its last checkpoint left it: append to the file from an offset, or
 * list the upload's parts and upload the next ones.
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

/** A committed object, as a listing reports it. */
export interface ListedObject {
  key: string;
  size: number;
  /** When it was committed, in microseconds since the epoch (the storage's own clock). */
  modifiedAt: number;
}

/** A leftover of a write that was neither committed nor aborted. */
export interface TemporaryObject {
  /** The key the write was going to publish. */
  key: string;
  /** The driver's name for it (a path under the root, an upload id): what `removeTemporary` removes. */
  name: string;
  /**
   * When it was last written to, in microseconds since the epoch (the storage's own clock); where the
   * storage only knows when the write started (S3 multipart uploads), that.
   */
  modifiedAt: number;
}

/** What a presigned link serves beside the bytes. */
export interface PresignOptions {
  /** Seconds the link stays valid, counted from `signedAtMicros`. */
  expiresInSeconds: number;
  /** The time the link is signed at (the injected clock's now), in microseconds since the epoch. */
  signedAtMicros: number;
  /** The `Content-Disposition` the store answers with, e.g. `attachment; filename="x.jsonl"`. */
  contentDisposition: string;
  /** The `Content-Type` the store answers with. */
  contentType: string;
}

/**
 * The storage every driver implements (local disk, S3). Every method taking a key rejects an invalid
 * one with `InvalidStorageKeyError`; errors retrying cannot fix (a full disk, access refused) are
 * `PermanentStorageError`s (storage.errors.ts).
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
  /** Every committed object whose key starts with `prefix` (`''`: all), in no particular order. */
  listObjects(prefix: string): AsyncIterable<ListedObject>;
  /**
   * Temporaries last written to before `olderThanMicros` (wall-clock microseconds; omitted: all of them).
   * A live write keeps its temporary fresh while bytes flow, so a threshold well in the past only finds
   * dead attempts. A store that cannot list them (some S3-compatible ones) answers none: its bucket's
   * lifecycle rule must clean them (docs/deploying.md).
   */
  listTemporary(olderThanMicros?: number): Promise<TemporaryObject[]>;
  /** Removes one temporary `listTemporary` found; a write still using it can no longer commit. */
  removeTemporary(temporary: TemporaryObject): Promise<boolean>;
  /**
   * A link that reads the object straight from the store (S3: a presigned GET). Absent on drivers whose
   * files chatport serves itself (`/downloads`, local disk).
   */
  presignRead?(key: string, options: PresignOptions): Promise<string>;
  /** Releases connections and the like; the driver is unusable afterwards. */
  close?(): Promise<void>;
}
