import type { HttpApp } from './http-app.js';
import { ApiError } from '../lib/errors.js';

/**
 * JSON bodies: an empty body counts as `{}` (SDKs send DELETE and some POSTs without one), and
 * malformed JSON is an input error naming the body. A `__proto__` key is refused (prototype poisoning).
 */
export function registerJsonBodyParser(app: HttpApp): void {
  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser(
    /^application\/([\w.+-]+\+)?json/,
    { parseAs: 'string' },
    (_request, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text.trim() === '') return done(null, {});
      try {
        done(
          null,
          JSON.parse(text, (key, value: unknown) => {
            if (key === '__proto__') {
              throw new SyntaxError(`forbidden key "${key}"`);
            }
            // PostgreSQL text cannot hold NUL, and no chat text needs it: refused on both databases alike.
            if (typeof value === 'string' && value.includes('\u0000')) {
              throw new SyntaxError(`the value of "${key}" contains a NUL character`);
            }
            return value;
          }),
        );
      } catch (error) {
        const reason = error instanceof Error ? error.message : 'invalid JSON';
        done(new ApiError('inputError', `invalid JSON body: ${reason}`, { body: 'invalid JSON' }), undefined);
      }
    },
  );
  // Clients that send a body without a content type still mean JSON.
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (request, body, done) => {
    const parser = app.getDefaultJsonParser('error', 'error');
    parser(request, typeof body === 'string' ? body : body.toString('utf8'), done);
  });
}
