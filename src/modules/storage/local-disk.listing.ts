import path from 'node:path';
import { statFile, walkFiles } from './local-disk.file-system.js';
import type { ListedObject, TemporaryObject } from './storage.types.js';

/**
 * What the local-disk driver finds under its root. Beside each committed file `<name>` the driver keeps
 * hidden names of its own (see local-disk.driver.ts): `.<name>.<16 hex>.tmp` (a write in progress),
 * `.<name>.<16 hex>.tmp.meta.tmp` (its content record, until commit) and `.<name>.meta`.
 */

const TEMPORARY = /^\.(.+)\.[0-9a-f]{16}\.tmp(\.meta\.tmp)?$/;
const RECORD = /^\.(.+)\.meta$/;

/** The folder to walk for keys starting with `prefix`: its last complete folder. */
function folderOf(base: string, prefix: string): string {
  const slash = prefix.lastIndexOf('/');
  return slash < 0 ? base : path.join(base, ...prefix.slice(0, slash).split('/'));
}

function keyOf(base: string, file: string, name: string): string {
  return path
    .relative(base, path.join(path.dirname(file), name))
    .split(path.sep)
    .join('/');
}

/** Committed files (names that do not start with a dot) whose key starts with `prefix`. */
export async function* listCommittedFiles(base: string, prefix: string): AsyncGenerator<ListedObject> {
  for await (const file of walkFiles(folderOf(base, prefix))) {
    if (path.basename(file).startsWith('.')) continue;
    const key = keyOf(base, file, path.basename(file));
    if (!key.startsWith(prefix)) continue;
    const stats = await statFile(file);
    if (stats) yield { key, size: Number(stats.size), modifiedAt: Number(stats.mtimeNs / 1000n) };
  }
}

/** Hidden temporaries, and records whose file is gone, last modified before the threshold. */
export async function listLeftovers(base: string, olderThanMicros: number): Promise<TemporaryObject[]> {
  const leftovers: TemporaryObject[] = [];
  for await (const file of walkFiles(base)) {
    const name = path.basename(file);
    if (!name.startsWith('.')) continue;
    let target = TEMPORARY.exec(name)?.[1];
    if (target === undefined) {
      const recorded = RECORD.exec(name)?.[1];
      // A record is a leftover only once the file it describes is gone.
      if (recorded !== undefined && !(await statFile(path.join(path.dirname(file), recorded)))) {
        target = recorded;
      }
    }
    if (target === undefined) continue;
    const stats = await statFile(file);
    if (!stats) continue;
    const modifiedAt = Number(stats.mtimeNs / 1000n);
    if (modifiedAt < olderThanMicros) {
      leftovers.push({ key: keyOf(base, file, target), name: path.relative(base, file), modifiedAt });
    }
  }
  return leftovers;
}
