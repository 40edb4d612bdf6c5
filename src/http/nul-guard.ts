import type { FastifyError, FastifyRequest } from 'fastify';
import type { HttpApp } from './http-app.js';
import { ApiError, inputError } from '../lib/errors.js';

const NUL = '\u0000';

function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes(NUL);
  return Array.isArray(value) && value.some(holdsNul);
}

/** The error for the first path parameter, query key or query value holding a NUL, if any does. */
function nulError(request: FastifyRequest): ApiError | undefined {
  for (const [key, value] of Object.entries((request.query ?? {}) as Record<string, unknown>)) {
    if (key === 'api_key' && holdsNul(value)) return new ApiError('apiKeyInvalid', 'api_key not valid');
    if (key.includes(NUL)) return inputError('query', 'contains a NUL character');
    if (holdsNul(value)) return inputError(key, 'contains a NUL character');
  }
  for (const [name, value] of Object.entries((request.params ?? {}) as Record<string, unknown>)) {
    if (holdsNul(value)) return inputError(name, 'contains a NUL character');
  }
  return undefined;
}

/**
 * Refuses a NUL character in a path parameter or the query string before auth or any query runs:
 * PostgreSQL text cannot hold one, and no id or option needs one (bodies: see parseJsonInput). Only a
 * percent-encoded NUL gets this far (Node's HTTP parser refuses a raw one), so most requests pass on
 * one substring test.
 */
export function registerNulGuard(app: HttpApp): void {
  app.addHook('onRequest', (request, _reply, done) => {
    if (!request.url.includes('%00')) return done();
    done(nulError(request) as FastifyError | undefined);
  });
}
