import { PermanentStorageError, type PermanentStorageFailure } from './storage.errors.js';

/**
 * S3 error codes no retry can fix, by the code the store answers (the SDK's error `name`). Codes of
 * S3-compatible stores are included where they differ (MinIO's XMinioStorageFull, Ceph's
 * QuotaExceeded). Everything else (throttling, 5xx, network errors) is retried: the SDK retries each
 * request itself, then the task queue retries the attempt.
 */
const PERMANENT: Record<string, { failure: PermanentStorageFailure; cause: string }> = {
  AccessDenied: { failure: 'storage_refused', cause: 'access denied' },
  AllAccessDisabled: { failure: 'storage_refused', cause: 'all access to the bucket is disabled' },
  AccountProblem: { failure: 'storage_refused', cause: 'the storage account has a problem' },
  InvalidAccessKeyId: { failure: 'storage_refused', cause: 'the access key is not known to the store' },
  SignatureDoesNotMatch: { failure: 'storage_refused', cause: 'the secret key does not match' },
  NoSuchBucket: { failure: 'storage_refused', cause: 'the bucket does not exist' },
  InvalidBucketName: { failure: 'storage_refused', cause: 'the bucket name is not valid' },
  CredentialsProviderError: { failure: 'storage_refused', cause: 'no credentials were found' },
  EntityTooLarge: { failure: 'storage_full', cause: 'the file is larger than the store allows' },
  QuotaExceeded: { failure: 'storage_full', cause: 'the storage quota is exceeded' },
  XMinioStorageFull: { failure: 'storage_full', cause: 'the store has no space left' },
  XMinioAdminBucketQuotaExceeded: { failure: 'storage_full', cause: 'the bucket quota is exceeded' },
};

/** The error code an S3 (or credentials) error carries, if any. */
export function s3ErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name, Code } = error as { name?: unknown; Code?: unknown };
  if (typeof Code === 'string') return Code;
  return typeof name === 'string' ? name : undefined;
}

/** The HTTP status of an S3 error response, if it came with one. */
export function s3HttpStatus(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata
    ?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/** True for a missing object or upload (404 NoSuchKey, NotFound, NoSuchUpload). */
export function isS3NotFound(error: unknown): boolean {
  const code = s3ErrorCode(error);
  return (
    code === 'NoSuchKey' || code === 'NotFound' || code === 'NoSuchUpload' || s3HttpStatus(error) === 404
  );
}

/** True when the store does not implement the request (some S3-compatible stores lack an operation). */
export function isS3Unsupported(error: unknown): boolean {
  const code = s3ErrorCode(error);
  return code === 'NotImplemented' || code === 'MethodNotAllowed' || s3HttpStatus(error) === 501;
}

/**
 * The error an S3 operation should raise for `error`: a PermanentStorageError naming the cause for the
 * codes above (a missing bucket also counts where the store answers it as a bare 404), the error
 * itself otherwise.
 */
export function classifyS3Error(error: unknown): unknown {
  if (error instanceof PermanentStorageError) return error;
  const code = s3ErrorCode(error);
  const known = code !== undefined && Object.hasOwn(PERMANENT, code) ? PERMANENT[code] : undefined;
  if (!known) return error;
  const what =
    known.failure === 'storage_full' ? 'the export storage is full' : 'the export storage refused the upload';
  return new PermanentStorageError(known.failure, `${what}: ${known.cause} (${code})`, { cause: error });
}
