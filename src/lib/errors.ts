/**
 * Every error a client can see, in one list. Each has a stable name, an HTTP status and the numeric
 * error code Stream's SDKs know. The HTTP layer renders them as Stream's error body; anything not
 * raised through this list is an internal error whose message never leaves the server.
 */
export const errorKinds = {
  inputError: { statusCode: 400, code: 4 },
  apiKeyInvalid: { statusCode: 401, code: 2 },
  authInvalid: { statusCode: 401, code: 5 },
  tokenExpired: { statusCode: 401, code: 40 },
  tokenNotValidYet: { statusCode: 401, code: 41 },
  tokenUsedBeforeIssued: { statusCode: 401, code: 42 },
  tokenSignatureInvalid: { statusCode: 401, code: 43 },
  notFound: { statusCode: 404, code: 16 },
  notAllowed: { statusCode: 403, code: 17 },
  rateLimited: { statusCode: 429, code: 9 },
  payloadTooBig: { statusCode: 413, code: 22 },
  /** The client took longer than a connection timeout allows to send its request (Stream's code 23). */
  requestTimeout: { statusCode: 408, code: 23 },
  /** The request line and headers are larger than the server accepts (Stream's code 24). */
  headersTooLarge: { statusCode: 431, code: 24 },
  /**
   * The database has no room left for a write (a full disk): nothing was saved, and the same request
   * succeeds once space is freed. 503 with `Retry-After`; -1 is the code Stream's SDKs treat as retryable.
   */
  storageFull: { statusCode: 503, code: -1 },
  /** A download's `Range` starts past the end of the file. Stream has no code for it: an input error. */
  rangeNotSatisfiable: { statusCode: 416, code: 4 },
  internal: { statusCode: 500, code: -1 },
} as const;

export type ErrorKind = keyof typeof errorKinds;

export class ApiError extends Error {
  readonly statusCode: number;
  readonly code: number;
  /** Seconds the client should wait before trying again, sent as `Retry-After`; unset: no header. */
  readonly retryAfterSeconds: number | undefined;
  constructor(
    readonly kind: ErrorKind,
    /** The detail shown to the client: `<Operation> failed with error: "<detail>"`. */
    readonly detail: string,
    /** For input errors: field name to reason. */
    readonly exceptionFields?: Record<string, string>,
    options: { retryAfterSeconds?: number } = {},
  ) {
    super(detail);
    this.name = 'ApiError';
    this.statusCode = errorKinds[kind].statusCode;
    this.code = errorKinds[kind].code;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export function inputError(field: string, reason: string): ApiError {
  return new ApiError('inputError', `${field} ${reason}`.trim(), { [field]: reason });
}

export function notFound(detail: string): ApiError {
  return new ApiError('notFound', detail);
}

export function notAllowed(detail: string): ApiError {
  return new ApiError('notAllowed', detail);
}

/**
 * An error that cannot succeed however often it is retried (bad task payload, a channel that is gone):
 * the task queue fails the task at once instead of spending its retries.
 */
export class UnrecoverableError extends Error {
  constructor(
    message: string,
    /** Short machine-readable type shown in the task's `error.type`. */
    readonly type: string = 'unrecoverable',
  ) {
    super(message);
    this.name = 'UnrecoverableError';
  }
}
