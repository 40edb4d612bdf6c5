import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { defaultSqliteFile, sqliteFilesOf } from './database/database.js';
import { restrictToOwner, restrictTreeToOwner, type RestrictedTree } from './lib/private-files.js';
import { DEV_APP_FILE } from './modules/apps/apps.usecases.js';
import { LOCAL_STORAGE_FOLDER } from './modules/storage/storage.drivers.js';

/** What chatport keeps in its data directory: the SQLite database and its companions, credentials, export files. */
export function keptInDataDirectory(dataDir: string): string[] {
  return [
    ...sqliteFilesOf(defaultSqliteFile(dataDir)),
    path.join(dataDir, DEV_APP_FILE),
    path.join(dataDir, LOCAL_STORAGE_FOLDER),
  ];
}

/**
 * Narrows to the server's user the data directory and what chatport keeps in it (the export files'
 * folder with everything under it), as an older version, a copy or a restored backup may have left
 * them readable by others. Entries chatport did not put there are reported, never changed: a data
 * directory shared by mistake must not have another program's files locked away.
 */
export async function makeDataDirectoryPrivate(dataDir: string, logger: Logger): Promise<void> {
  const outcome: RestrictedTree = { restricted: [], failed: [] };
  try {
    if (restrictToOwner(dataDir)) outcome.restricted.push(dataDir);
  } catch (error) {
    outcome.failed.push({ path: dataDir, error: (error as Error).message });
  }
  const kept = keptInDataDirectory(dataDir);
  for (const target of kept) {
    const { restricted, failed } = await restrictTreeToOwner(target);
    outcome.restricted.push(...restricted);
    outcome.failed.push(...failed);
  }
  const others = await readableByOthers(dataDir, new Set(kept.map((target) => path.basename(target))));
  if (outcome.restricted.length > 0) {
    logger.warn(
      { dataDir, count: outcome.restricted.length, examples: outcome.restricted.slice(0, 5) },
      'made files in the data directory private to this user (they were readable by others)',
    );
  }
  if (outcome.failed.length > 0) {
    logger.error(
      { dataDir, count: outcome.failed.length, examples: outcome.failed.slice(0, 5) },
      'could not make these files in the data directory private; fix their owner or mode',
    );
  }
  if (others.length > 0) {
    logger.warn(
      { dataDir, entries: others.slice(0, 5), count: others.length },
      'the data directory holds entries chatport did not create, readable by others; left as they are',
    );
  }
}

/** Entries directly in `dataDir`, other than the `kept` names, that others may read or write. */
async function readableByOthers(dataDir: string, kept: Set<string>): Promise<string[]> {
  let entries: string[];
  try {
    entries = await fs.readdir(dataDir);
  } catch {
    return [];
  }
  const open: string[] = [];
  for (const entry of entries) {
    if (kept.has(entry)) continue;
    const stats = await fs.lstat(path.join(dataDir, entry)).catch(() => undefined);
    if (stats && !stats.isSymbolicLink() && (stats.mode & 0o077) !== 0) open.push(entry);
  }
  return open;
}
