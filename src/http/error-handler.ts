import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { DatabaseErrorKind } from '../database/database.js';
import { ApiError, errorKinds, inputError, type ErrorKind } from '../lib/errors.js';

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

/**
 * A field the body schema does not declare (closed objects) or refuses by name (lib/request-fields.ts):
 * chatport does not implement it, and says so rather than ignore it.
 */
const UNSUPPORTED_KEYWORDS = new Set(['additionalProperties', 'not']);

/** Field names come from the client's keys: a Map, so `constructor` or `__proto__` is just a name. */
function validationFields(error: FastifyError): Record<string, string> {
  const fields = new Map<string, string>();
  for (const issue of (error.validation ?? []) as ValidationIssue[]) {
    const field = fieldOf(issue, error.validationContext);
    const why = UNSUPPORTED_KEYWORDS.has(issue.keyword ?? '')
      ? 'is not supported by chatport'
      : (issue.message ?? 'is invalid');
    if (!fields.has(field)) fields.set(field, why);
  }
  return Object.fromEntries(fields);
}

/** What a client sees of a database error the dialect recognised (see DatabaseErrorKind). */
const DATABASE_ERRORS: Readonly<Record<DatabaseErrorKind, () => ApiError>> = {
  // Two requests raced to create the same id; the loser gets what a sequential request would.
  conflict: () =>
    new ApiError('inputError', 'a record with this id already exists', { id: 'already exists' }),
  busy: () =>
    new ApiError('rateLimited', 'the database is busy, retry the request', undefined, {
      retryAfterSeconds: 1,
    }),
  storageFull: () =>
    new ApiError(
      'storageFull',
      'the server has no storage space left, nothing was saved; retry once space is freed',
      undefined,
      { retryAfterSeconds: 30 },
    ),
};

function send(reply: FastifyReply, body: StreamErrorBody) {
  return reply.code(body.StatusCode).type('application/json; charset=utf-8').send(body);
}

/**
 * Renders every error in Stream's shape; internal errors are logged and never leak their message.
 * Database errors are told apart by the dialect's `classifyDatabaseError`, not by driver codes here.
 */
export function createErrorHandler(classifyDatabaseError: (error: unknown) => DatabaseErrorKind | undefined) {
  return function handleError(
    error: FastifyError | ApiError | Error,
    request: FastifyRequest,
    reply: FastifyReply,
  ): FastifyReply {
    const operation = request.routeOptions.config?.operation ?? 'Request';
    const elapsed = reply.elapsedTime;
    if (error instanceof ApiError) {
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      return send(reply, errorBody(operation, error.kind, error.detail, elapsed, error.exceptionFields));
    }
    if ('validation' in error && error.validation) {
      const fields = validationFields(error);
      const detail = Object.entries(fields)
        .map(([field, why]) => `${field} ${why}`)
        .join(', ');
      return send(reply, errorBody(operation, 'inputError', detail, elapsed, fields));
    }
    const statusCode = 'statusCode' in error ? error.statusCode : undefined;
    if (statusCode === 413) {
      return send(reply, errorBody(operation, 'payloadTooBig', 'request body is too large', elapsed));
    }
    if (statusCode === 415) {
      return send(
        reply,
        errorBody(operation, 'inputError', 'unsupported content type, send application/json', elapsed, {
          body: 'unsupported content type',
        }),
      );
    }
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      // Fastify's own client errors (a body that does not match its content length, ...): safe to describe.
      return send(reply, errorBody(operation, 'inputError', error.message, elapsed, { body: error.message }));
    }
    const databaseError = classifyDatabaseError(error);
    if (databaseError !== undefined) {
      if (databaseError !== 'conflict') request.log.warn({ err: error }, `database error: ${databaseError}`);
      return handleError(DATABASE_ERRORS[databaseError](), request, reply);
    }
    request.log.error({ err: error }, 'internal error');
    return send(reply, errorBody(operation, 'internal', 'internal error', elapsed));
  };
}

/**
 * Fastify's `frameworkErrors`: a URL it cannot route (malformed percent-encoding, a path parameter
 * longer than the router takes) answers in Stream's shape, without echoing the URL back.
 */
export function createFrameworkErrorHandler(
  maxParamLength: number,
  handleError: ReturnType<typeof createErrorHandler>,
) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error.code === 'FST_ERR_BAD_URL') {
      return handleError(inputError('url', 'is not validly percent-encoded'), request, reply);
    }
    if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
      return handleError(
        inputError('url', `has a path parameter longer than ${maxParamLength} characters`),
        request,
        reply,
      );
    }
    return handleError(error, request, reply);
  };
}

/** What Node's HTTP parser reports before any route runs, as Stream's error kinds. */
function clientErrorKind(code: string | undefined): { kind: ErrorKind; detail: string } {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return { kind: 'requestTimeout', detail: 'the request was not received in time' };
  if (code === 'HPE_HEADER_OVERFLOW')
    return { kind: 'headersTooLarge', detail: 'the request line and headers are too large' };
  return { kind: 'inputError', detail: 'the request is not valid HTTP' };
}

/**
 * Fastify's `clientErrorHandler`, for errors of Node's HTTP parser (malformed requests, oversized
 * headers, a request not received within the timeouts): Stream's error body written on the raw socket,
 * as Node would write its own, and only when no response has started on it; then the socket is closed.
 */
export function handleClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const { kind, detail } = clientErrorKind(error.code);
    const body = JSON.stringify(errorBody('Request', kind, detail, 0));
    const status = errorKinds[kind].statusCode;
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
