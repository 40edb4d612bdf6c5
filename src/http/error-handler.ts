import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, errorKinds, type ErrorKind } from '../lib/errors.js';

export interface StreamErrorBody {
  code: number;
  message: string;
  StatusCode: number;
  duration: string;
  more_info: string;
  details: unknown[];
  exception_fields?: Record<string, string>;
}

const MORE_INFO = 'https://getstream.io/chat/docs/api_errors_response';

export function formatDuration(millis: number): string {
  return `${millis.toFixed(2)}ms`;
}

export function errorBody(
  operation: string,
  kind: ErrorKind,
  detail: string,
  elapsedMillis: number,
  exceptionFields?: Record<string, string>,
): StreamErrorBody {
  const { statusCode, code } = errorKinds[kind];
  return {
    code,
    message: `${operation} failed with error: "${detail}"`,
    StatusCode: statusCode,
    duration: formatDuration(elapsedMillis),
    more_info: MORE_INFO,
    details: [],
    ...(exceptionFields ? { exception_fields: exceptionFields } : {}),
  };
}

interface ValidationIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** `channels/0/id` → `channels.0.id`; a missing property names itself. */
function fieldOf(issue: ValidationIssue, context: string | undefined): string {
  const base = (issue.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  const missing = issue.params?.missingProperty ?? issue.params?.additionalProperty;
  const name = typeof missing === 'string' ? (base ? `${base}.${missing}` : missing) : base;
  return name || context || 'body';
}

function validationFields(error: FastifyError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of (error.validation ?? []) as ValidationIssue[]) {
    const field = fieldOf(issue, error.validationContext);
    fields[field] ??= issue.message ?? 'is invalid';
  }
  return fields;
}

const CONFLICT_CODES = new Set(['23505', 'SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_CONSTRAINT_UNIQUE']);
const BUSY_CODES = new Set(['40001', '40P01', '55P03', 'SQLITE_BUSY', 'SQLITE_LOCKED']);

/** Database errors a client caused or can retry, told apart by the drivers' error codes. */
function databaseErrorKind(error: Error): 'conflict' | 'busy' | undefined {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return undefined;
  if (CONFLICT_CODES.has(code)) return 'conflict';
  if (BUSY_CODES.has(code) || code.startsWith('SQLITE_BUSY')) return 'busy';
  return undefined;
}

/** Renders every error in Stream's shape; internal errors are logged and never leak their message. */
export function handleError(
  error: FastifyError | ApiError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const operation = request.routeOptions.config?.operation ?? 'Request';
  const elapsed = reply.elapsedTime;
  let body: StreamErrorBody;
  if (error instanceof ApiError) {
    body = errorBody(operation, error.kind, error.detail, elapsed, error.exceptionFields);
    if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  } else if ('validation' in error && error.validation) {
    const fields = validationFields(error);
    const detail = Object.entries(fields)
      .map(([field, why]) => `${field} ${why}`)
      .join(', ');
    body = errorBody(operation, 'inputError', detail, elapsed, fields);
  } else if ('statusCode' in error && error.statusCode === 413) {
    body = errorBody(operation, 'payloadTooBig', 'request body is too large', elapsed);
  } else if ('statusCode' in error && error.statusCode === 415) {
    body = errorBody(operation, 'inputError', 'unsupported content type, send application/json', elapsed, {
      body: 'unsupported content type',
    });
  } else if (
    'statusCode' in error &&
    typeof error.statusCode === 'number' &&
    error.statusCode >= 400 &&
    error.statusCode < 500
  ) {
    // Fastify's own client errors (malformed JSON, bad URL encoding, ...): safe to describe.
    body = errorBody(operation, 'inputError', error.message, elapsed, { body: error.message });
  } else if (databaseErrorKind(error) === 'conflict') {
    // Two requests raced to create the same id; the loser gets what a sequential request would.
    body = errorBody(operation, 'inputError', 'a record with this id already exists', elapsed, {
      id: 'already exists',
    });
  } else if (databaseErrorKind(error) === 'busy') {
    request.log.warn({ err: error }, 'database busy');
    body = errorBody(operation, 'rateLimited', 'the database is busy, retry the request', elapsed);
  } else {
    request.log.error({ err: error }, 'internal error');
    body = errorBody(operation, 'internal', 'internal error', elapsed);
  }
  return reply.code(body.StatusCode).type('application/json; charset=utf-8').send(body);
}
