import crypto from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { HashingFileSink } from './local-disk.file-sink.js';
import {
  createExclusive,
  isMissing,
  pruneEmptyDirectories,
  statFile,
  syncDirectory,
  unlinkIfPresent,
} from './local-disk.file-system.js';
import { classifyLocalDiskError, classifyingLocalDiskErrors } from './local-disk.errors.js';
import { listCommittedFiles, listLeftovers } from './local-disk.listing.js';
import { InvalidStorageKeyError, StorageObjectNotFoundError } from './storage.errors.js';
import { validateByteRange, validateStorageKey } from './storage.keys.js';
import type { CommittedObject, PendingWrite, StorageDriver, WriteSavepoint } from './storage.types.js';

/**
 * Files under `root`, one per key at `<root>/<key>`, so an operator can browse them. Beside each file,
 * hidden names the driver owns (keys never start with a dot):
 * - `.<name>.<random>.tmp`: a write in progress, renamed to `<name>` by its commit;
 * - `.<name>.meta`: the file's SHA-256, recorded at commit with the size, mtime and inode it belongs to.
 * Files are created mode 0600: exports hold private messages.
 */
export function createLocalDiskDriver({ root }: { root: string }): StorageDriver {
  const base = path.resolve(root);

  function pathOf(key: string): string {
    const resolved = path.resolve(base, ...validateStorageKey(key).split('/'));
    // Belt and braces: validation already rules out every way of leaving the root.
    if (!resolved.startsWith(base + path.sep)) throw new InvalidStorageKeyError(key, 'outside the root');
    return resolved;
  }

  return {
    name: 'local',

    async openWrite(key) {
      const file = pathOf(key);
      return classifyingLocalDiskErrors(() => openLocalWrite(file));
    },

    async resumeWrite(key, savepoint) {
      const file = pathOf(key);
      return classifyingLocalDiskErrors(() => resumeLocalWrite(file, savepoint));
    },

    async stat(key) {
      const file = pathOf(key);
      const stats = await statFile(file);
      if (!stats) return undefined;
      return {
        size: Number(stats.size),
        etag: (await recordedEtag(file, stats)) ?? fallbackEtag(stats),
        modifiedAt: Number(stats.mtimeNs / 1000n),
      };
    },

    async openRead(key, range) {
      const file = pathOf(key);
      if (range) validateByteRange(range);
      let handle: fs.FileHandle;
      try {
        handle = await fs.open(file, 'r');
      } catch (error) {
        if (isMissing(error)) throw new StorageObjectNotFoundError(key);
        throw error;
      }
      try {
        if (!(await handle.stat()).isFile()) throw new StorageObjectNotFoundError(key);
      } catch (error) {
        await handle.close();
        throw error;
      }
      return handle.createReadStream({ start: range?.start, end: range?.end });
    },

    async delete(key) {
      const file = pathOf(key);
      if (!(await statFile(file))) return false;
      const existed = await unlinkIfPresent(file);
      await unlinkIfPresent(recordPathOf(file));
      await pruneEmptyDirectories(path.dirname(file), base);
      return existed;
    },

    listObjects(prefix) {
      return listCommittedFiles(base, prefix);
    },

    async listTemporary(olderThanMicros = Number.POSITIVE_INFINITY) {
      return listLeftovers(base, olderThanMicros);
    },

    async removeTemporary(temporary) {
      const file = path.resolve(base, temporary.name);
      // Only the driver's own hidden names under the root: a listing's name, never anything else.
      if (!file.startsWith(base + path.sep) || !path.basename(file).startsWith('.')) {
        throw new InvalidStorageKeyError(temporary.name, 'not a temporary of this storage');
      }
      return unlinkIfPresent(file);
    },
  };
}

/** What `.<name>.meta` holds: the content hash and the identity of the file it was computed for. */
interface ContentRecord {
  sha256: string;
  size: string;
  mtimeNs: string;
  ino: string;
}

async function openLocalWrite(file: string): Promise<PendingWrite> {
  const random = crypto.randomBytes(8).toString('hex');
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${random}.tmp`);
  const { handle, topCreated } = await createExclusive(temporary);
  return localWrite({ file, temporary, handle, sink: new HashingFileSink(handle), topCreated });
}

/**
 * Reopens the temporary a savepoint names, cut back to the savepoint's length (bytes written after it
 * may be half there), and hashes what it keeps: the ETag stays the hash of the whole content.
 */
async function resumeLocalWrite(file: string, savepoint: WriteSavepoint): Promise<PendingWrite | undefined> {
  const name = savepoint.state.temporary;
  const pattern = new RegExp(`^\\.${escapeRegExp(path.basename(file))}\\.[0-9a-f]{16}\\.tmp$`);
  if (typeof name !== 'string' || !pattern.test(name)) return undefined;
  const temporary = path.join(path.dirname(file), name);
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(temporary, 'r+');
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    if (size < savepoint.bytes) {
      await handle.close();
      return undefined;
    }
    await handle.truncate(savepoint.bytes);
    const hash = crypto.createHash('sha256');
    if (savepoint.bytes > 0) {
      for await (const chunk of fsSync.createReadStream(temporary, { start: 0, end: savepoint.bytes - 1 }))
        hash.update(chunk as Buffer);
    }
    const sink = new HashingFileSink(handle, { position: savepoint.bytes, hash });
    return localWrite({ file, temporary, handle, sink, topCreated: undefined });
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A write into `temporary`, open as `handle`, published as `file` by its commit. */
function localWrite({
  file,
  temporary,
  handle,
  sink,
  topCreated,
}: {
  file: string;
  temporary: string;
  handle: fs.FileHandle;
  sink: HashingFileSink;
  /** The top-most folder the write created, whose parent's entry must be synced at commit. */
  topCreated: string | undefined;
}): PendingWrite {
  const directory = path.dirname(file);
  const recordTemporary = `${temporary}.meta.tmp`;
  let closed = false;
  let aborted = false;
  let committing: Promise<CommittedObject> | undefined;

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    await handle.close();
  }

  async function discard(): Promise<void> {
    sink.destroy();
    await close().catch(() => undefined);
    await unlinkIfPresent(temporary);
    await unlinkIfPresent(recordTemporary);
  }

  async function publish(): Promise<CommittedObject> {
    if (!sink.writableEnded) sink.end();
    await finished(sink);
    const stats = await handle.stat({ bigint: true });
    await close();
    const sha256 = sink.digest();
    const record: ContentRecord = {
      sha256,
      size: String(stats.size),
      mtimeNs: String(stats.mtimeNs),
      ino: String(stats.ino),
    };
    await fs.writeFile(recordTemporary, JSON.stringify(record), { mode: 0o600 });
    await fs.rename(temporary, file);
    // Until the record lands (or should the process die first), stat finds the previous record, whose
    // inode is not this file's, and answers the size-and-mtime ETag instead: never a wrong hash.
    await fs.rename(recordTemporary, recordPathOf(file));
    // The renames are durable once the folder holding them is, and a folder this write created once
    // its parent's entry for it is: those folders, and no others, are synced, all at once.
    const folders = [directory];
    for (let dir = directory; topCreated && dir !== path.dirname(dir); dir = path.dirname(dir)) {
      folders.push(path.dirname(dir));
      if (dir === topCreated) break;
    }
    await Promise.all(folders.map((folder) => syncDirectory(folder)));
    return { size: Number(stats.size), etag: `"${sha256}"` };
  }

  return {
    stream: sink,
    commit() {
      if (aborted) return Promise.reject(new Error(`the write to ${file} was aborted`));
      if (committing) return Promise.reject(new Error(`the write to ${file} was already committed`));
      committing = publish().catch(async (error: unknown) => {
        await discard();
        throw classifyLocalDiskError(error);
      });
      return committing;
    },
    async abort() {
      if (committing) {
        // Once a commit has started it decides: the object is published, or the commit cleaned up.
        await committing.catch(() => undefined);
        return;
      }
      if (aborted) return;
      aborted = true;
      await discard();
    },
    async savepoint() {
      // What was written before the call, stored or on its way: the writer may go on meanwhile.
      const bytes = sink.bytesStored + sink.writableLength;
      await sink.settled();
      await handle.sync();
      return { bytes, state: { temporary: path.basename(temporary) } };
    },
    async detach() {
      if (committing) return this.abort();
      if (aborted) return;
      aborted = true;
      sink.destroy();
      await close().catch(() => undefined);
    },
  };
}

function recordPathOf(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.meta`);
}

/** The content hash recorded at commit, if the record still describes this very file. */
async function recordedEtag(file: string, stats: BigIntStats): Promise<string | undefined> {
  let record: Partial<ContentRecord>;
  try {
    record = JSON.parse(await fs.readFile(recordPathOf(file), 'utf8')) as Partial<ContentRecord>;
  } catch {
    return undefined;
  }
  const matches =
    record.size === String(stats.size) &&
    record.mtimeNs === String(stats.mtimeNs) &&
    record.ino === String(stats.ino) &&
    typeof record.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(record.sha256);
  return matches ? `"${record.sha256}"` : undefined;
}

/**
 * For a file without a believable record (put there by hand, restored from a backup, or a commit cut
 * short between its two renames): size and modification time, as most web servers do.
 */
function fallbackEtag(stats: BigIntStats): string {
  return `"${stats.size.toString(16)}-${stats.mtimeNs.toString(16)}"`;
}
