import { ApiError } from '../../lib/errors.js';

/**
 * A line that cannot be imported: bad JSON, an unknown type, a missing or malformed field, or a
 * reference to something neither in the database nor earlier in the file. An input error (400, code 4)
 * should it ever travel over HTTP.
 */
export class ImportLineError extends ApiError {
  constructor(
    /** 1-based line number in the file. */
    readonly line: number,
    /** The offending field (`data.user`), or `line` when the line as a whole is wrong. */
    readonly field: string,
    readonly reason: string,
  ) {
    // An import is one transaction: a line that fails it leaves nothing behind.
    super(
      'inputError',
      `line ${line}: ${field === 'line' ? '' : `${field} `}${reason} (nothing was imported)`,
      {
        [field]: reason,
      },
    );
    this.name = 'ImportLineError';
  }
}

/** Turns a validation ApiError (`inputError(field, reason)`) raised while reading a line into a line error. */
export function lineErrorFrom(error: unknown, line: number): unknown {
  if (!(error instanceof ApiError) || error instanceof ImportLineError || error.kind !== 'inputError') {
    return error;
  }
  const [field, reason] = Object.entries(error.exceptionFields ?? {})[0] ?? ['line', error.detail];
  return new ImportLineError(line, field, reason);
}
