import type { FastifyRequest } from 'fastify';
import type { HttpApp } from './http-app.js';
import { ApiError } from '../lib/errors.js';
import { parseJsonInput } from '../lib/json.js';

function parseBody(
  _request: FastifyRequest,
  body: string | Buffer,
  done: (error: Error | null, value?: unknown) => void,
): void {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (text.trim() === '') return done(null, {});
  let value: unknown;
  try {
    value = parseJsonInput(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : 'invalid JSON';
    return done(new ApiError('inputError', `invalid JSON body: ${reason}`, { body: 'invalid JSON' }));
  }
  done(null, value);
}

/**
 * JSON bodies: an empty body counts as `{}` (SDKs send DELETE and some POSTs without one), and
 * malformed JSON is an input error naming the body, as is what parseJsonInput refuses (deep nesting,
 * NUL characters, `__proto__` keys). Clients that send a body as `text/plain` still mean JSON.
 */
export function registerJsonBodyParser(app: HttpApp): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(/^application\/([\w.+-]+\+)?json/, { parseAs: 'string' }, parseBody);
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, parseBody);
}
