import crypto from 'node:crypto';
import fs from 'node:fs';
import fsPromises from 'node:fs/promises';
import path from 'node:path';

/**
 * Everything chatport keeps (the database, app secrets, export files) is readable by the server's
 * user alone: directories 0700, files 0600. These helpers create things that way and take group and
 * other permissions away from what an older version, a restored backup or a copy left looser.
 */

/** Permission bits for the group and for others: none may be set on what chatport keeps. */
const SHARED_BITS = 0o077;

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/**
 * Removes group and other permissions from `target` (a file or directory, not followed if a link).
 * True when it changed the mode; false when it was private already or does not exist.
 */
export function restrictToOwner(target: string): boolean {
  let stats: fs.Stats;
  try {
    stats = fs.lstatSync(target);
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
  if (stats.isSymbolicLink() || (stats.mode & SHARED_BITS) === 0) return false;
  fs.chmodSync(target, stats.mode & 0o7777 & ~SHARED_BITS);
  return true;
}

/** Creates `directory` and missing parents as 0700; an existing `directory` loses group and other access. */
export function ensurePrivateDirectory(directory: string): void {
  fs.mkdirSync(directory, { recursive: true, mode: 0o700 });
  restrictToOwner(directory);
}

/** Creates `file` empty with mode 0600 unless it exists; an existing one loses group and other access. */
export function ensurePrivateFile(file: string): void {
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  restrictToOwner(file);
}

/**
 * Writes `content` to `file` as 0600, atomically: a temporary file beside it is renamed over it, so
 * readers see the old content or the new, and an existing file's looser mode does not carry over.
 */
export function writePrivateFile(file: string, content: string): void {
  ensurePrivateDirectory(path.dirname(file));
  const temporary = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${crypto.randomBytes(6).toString('hex')}.tmp`,
  );
  try {
    fs.writeFileSync(temporary, content, { mode: 0o600, flag: 'wx' });
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}

/** What restrictTreeToOwner did. */
export interface RestrictedTree {
  /** Paths whose mode it narrowed. */
  restricted: string[];
  /** Paths it could not narrow (owned by another user, a read-only mount), with the error. */
  failed: Array<{ path: string; error: string }>;
}

/**
 * Takes group and other permissions away from `root` and everything under it (links are neither
 * followed nor changed). Nothing happens when `root` does not exist. Entries that cannot be changed
 * are reported, not thrown: the caller decides whether to warn or stop.
 */
export async function restrictTreeToOwner(root: string): Promise<RestrictedTree> {
  const outcome: RestrictedTree = { restricted: [], failed: [] };
  async function visit(target: string): Promise<void> {
    let stats: fs.Stats;
    try {
      stats = await fsPromises.lstat(target);
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    if (!stats.isDirectory() && !stats.isFile()) return;
    if ((stats.mode & SHARED_BITS) !== 0) {
      try {
        await fsPromises.chmod(target, stats.mode & 0o7777 & ~SHARED_BITS);
        outcome.restricted.push(target);
      } catch (error) {
        if (isMissing(error)) return;
        outcome.failed.push({ path: target, error: (error as Error).message });
      }
    }
    if (!stats.isDirectory()) return;
    let entries: string[];
    try {
      entries = await fsPromises.readdir(target);
    } catch (error) {
      if (isMissing(error)) return;
      outcome.failed.push({ path: target, error: (error as Error).message });
      return;
    }
    for (const entry of entries) await visit(path.join(target, entry));
  }
  await visit(root);
  return outcome;
}
