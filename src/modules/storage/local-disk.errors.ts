import { PermanentStorageError, type PermanentStorageFailure } from './storage.errors.js';

/** File-system errors no retry can fix in the seconds a task's backoff lasts, by errno code. */
const PERMANENT: Record<string, { failure: PermanentStorageFailure; cause: string }> = {
  ENOSPC: { failure: 'storage_full', cause: 'no space left on the device' },
  EDQUOT: { failure: 'storage_full', cause: 'the disk quota is exceeded' },
  EFBIG: { failure: 'storage_full', cause: 'the file is larger than the file system allows' },
  EROFS: { failure: 'storage_refused', cause: 'the file system is read-only' },
  EACCES: { failure: 'storage_refused', cause: 'permission denied' },
  EPERM: { failure: 'storage_refused', cause: 'operation not permitted' },
};

/**
 * The error a local-disk operation should raise for `error`: a PermanentStorageError naming the cause
 * (`storage_full`, `storage_refused`) for the errno codes above, the error itself otherwise (retried).
 */
export function classifyLocalDiskError(error: unknown): unknown {
  if (error instanceof PermanentStorageError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const known = code !== undefined && Object.hasOwn(PERMANENT, code) ? PERMANENT[code] : undefined;
  if (!known) return error;
  const what =
    known.failure === 'storage_full' ? 'the export storage is full' : 'the export storage refused the write';
  return new PermanentStorageError(known.failure, `${what}: ${known.cause} (${code})`, { cause: error });
}

/** Runs `operation`, raising classifyLocalDiskError of whatever it throws. */
export async function classifyingLocalDiskErrors<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw classifyLocalDiskError(error);
  }
}
