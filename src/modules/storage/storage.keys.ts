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
  return validateStorageKey(`exports/${appId}/${taskId}/${folder}${filename}`);
}
