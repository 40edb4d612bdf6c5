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
 * - savepoint: how much of a write is stored durably, and the driver's state to continue it from there
 *   (a temporary's name; an upload id and its parts). A write is one temporary that grows by appends,
 *   never a chain of pieces, so `resumeWrite` can reopen a dead process's temporary where a savepoint
 *   left it: the file cut back to the savepoint's length, or the upload continued after its parts.
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
  /**
   * Waits until the bytes written so far are stored durably, where the driver can (local disk: all of
   * them; S3: the parts uploaded, not the tail still short of a part), and says how many are.
   */
  savepoint(): Promise<WriteSavepoint>;
  /**
   * Stops writing and releases what the write holds, but keeps its temporary for `resumeWrite` (a
   * failed attempt whose successor will resume). Like abort, a no-op after a commit; abort afterwards
   * does nothing either. The retention sweeper removes the temporary once its task is over.
   */
  detach(): Promise<void>;
}

/** Where a write stands durably: what `resumeWrite` continues from. JSON, to be stored by the caller. */
export interface WriteSavepoint {
  /** Bytes from the start of the content that are stored durably. */
  bytes: number;
  /** The driver's own state: which temporary, which upload and parts. */
  state: Record<string, unknown>;
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
  /**
   * Reopens the temporary of an earlier write to `key` where `savepoint` left it: the next byte written
   * is byte `savepoint.bytes` of the content. Undefined when that temporary is gone or no longer holds
   * the savepoint's bytes (swept, aborted, cut short): the caller starts over with openWrite.
   */
  resumeWrite(key: string, savepoint: WriteSavepoint): Promise<PendingWrite | undefined>;
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
