import { InvalidStorageKeyError } from './storage.errors.js';

const MAX_KEY_LENGTH = 1024;
// Short enough that a driver can wrap a segment in its own hidden names (`.<segment>.<random>.tmp`)
// and stay under the 255-byte file-name limit of common file systems.
const MAX_SEGMENT_LENGTH = 200;
/**
 * A segment is a portable file name that is also a plain S3 key part. It may not start with a dot:
 * that rules out `.` and `..`, and leaves dot-names free for a driver's own hidden files (temporaries).
 */
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/**
 * Checks that `key` is a relative path of safe segments (`exports/1/<task>/channels.json`) and returns
 * it; throws InvalidStorageKeyError otherwise. Every driver calls it before touching storage.
 */
export function validateStorageKey(key: string): string {
  if (typeof key !== 'string' || key === '') throw new InvalidStorageKeyError(String(key), 'empty');
  if (key.length > MAX_KEY_LENGTH) {
    throw new InvalidStorageKeyError(key, `longer than ${MAX_KEY_LENGTH} characters`);
  }
  if (key.startsWith('/')) throw new InvalidStorageKeyError(key, 'absolute');
  for (const segment of key.split('/')) {
    if (segment === '') throw new InvalidStorageKeyError(key, 'empty segment');
    if (segment === '.' || segment === '..') throw new InvalidStorageKeyError(key, `"${segment}" segment`);
    if (segment.length > MAX_SEGMENT_LENGTH) {
      throw new InvalidStorageKeyError(key, `segment longer than ${MAX_SEGMENT_LENGTH} characters`);
    }
    if (!SEGMENT.test(segment)) {
      throw new InvalidStorageKeyError(key, `segment "${segment}" must match ${SEGMENT.source}`);
    }
  }
  return key;
}

/** Throws RangeError unless `range` is `start <= end`, both non-negative safe integers. */
export function validateByteRange({ start, end }: { start: number; end: number }): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`invalid byte range ${start}-${end}`);
  }
}

/** The last segment of a key: the file name a download presents. */
export function storageKeyFilename(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

/**
 * Where an export task publishes its file: `exports/<appId>/<taskId>/<filename>`. One folder per task,
 * so a task's files never collide with another's and retention can delete them together.
 */
export function exportFileKey({
  appId,
  taskId,
  attempt,
  filename,
}: {
  appId: number;
  taskId: string;
  /** When given, a folder of its own per attempt, so no attempt can overwrite another's file. */
  attempt?: number;
  filename: string;
}): string {
  const folder = attempt === undefined ? '' : `${attempt}/`;
  return validateStorageKey(`${EXPORTS_PREFIX}${appId}/${taskId}/${folder}${filename}`);
}

/** The parts of a key exportFileKey made. */
export interface ExportFileKey {
  key: string;
  appId: number;
  taskId: string;
  /** Absent for keys made without an attempt folder. */
  attempt: number | undefined;
  filename: string;
}

/** Where every export file is stored. */
export const EXPORTS_PREFIX = 'exports/';

const EXPORT_KEY = /^exports\/([1-9][0-9]{0,14})\/([^/]+)\/(?:([1-9][0-9]{0,8})\/)?([^/]+)$/;

/** The parts of an export file's key, or undefined for any other key. */
export function parseExportFileKey(key: string): ExportFileKey | undefined {
  const match = EXPORT_KEY.exec(key);
  if (!match) return undefined;
  return {
    key,
    appId: Number(match[1]),
    taskId: match[2]!,
    attempt: match[3] === undefined ? undefined : Number(match[3]),
    filename: match[4]!,
  };
}
