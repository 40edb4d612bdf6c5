import fs from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import path from 'node:path';

/** File-system steps the local-disk driver repeats, each tolerant of the races a shared folder has. */

export function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** The stats of a regular file, or undefined when there is none (a folder does not count). */
export async function statFile(file: string): Promise<BigIntStats | undefined> {
  try {
    const stats = await fs.stat(file, { bigint: true });
    return stats.isFile() ? stats : undefined;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/** True when it removed the file, false when there was none. */
export async function unlinkIfPresent(file: string): Promise<boolean> {
  try {
    await fs.unlink(file);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

/** Every regular file under `directory`, depth first; folders that vanish meanwhile are skipped. */
export async function* walkFiles(directory: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = await fs.readdir(directory, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) return;
    throw error;
  }
  for (const entry of entries) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) yield* walkFiles(full);
    else if (entry.isFile()) yield full;
  }
}

/** Removes `directory` and its parents below `root` while they are empty. */
export async function pruneEmptyDirectories(directory: string, root: string): Promise<void> {
  for (let dir = directory; dir.startsWith(root + path.sep); dir = path.dirname(dir)) {
    try {
      await fs.rmdir(dir);
    } catch {
      return; // not empty (another task's files, a write starting): leave it and its parents
    }
  }
}

/** Makes renames in `directory` durable. Platforms that cannot fsync a folder (Windows) skip it. */
export async function syncDirectory(directory: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(directory, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw error;
  } finally {
    await handle?.close();
  }
}

/**
 * Opens a new file (failing if it exists), creating its folders. A concurrent delete may prune a folder
 * between the mkdir and the open, so the pair is retried a few times. Answers the top-most folder it
 * created, if any: that folder and every one below it on the way to the file are new.
 */
export async function createExclusive(
  file: string,
): Promise<{ handle: fs.FileHandle; topCreated: string | undefined }> {
  let topCreated: string | undefined;
  for (let attempt = 1; ; attempt++) {
    const created = await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    if (created !== undefined && (topCreated === undefined || created.length < topCreated.length))
      topCreated = created;
    try {
      return { handle: await fs.open(file, 'wx', 0o600), topCreated };
    } catch (error) {
      if (!isMissing(error) || attempt >= 3) throw error;
    }
  }
}
