import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { HttpApp } from './http-app.js';

/**
 * Bodies are validated strictly (a number where a string belongs is an error, never coerced), while
 * query strings and path params are coerced from text, as they can only arrive as text.
 */
export function registerValidators(app: HttpApp): void {
  const strict = new Ajv({ coerceTypes: false, useDefaults: true, allErrors: false, strict: false });
  const coercing = new Ajv({ coerceTypes: 'array', useDefaults: true, allErrors: false, strict: false });
  addFormats.default(strict);
  addFormats.default(coercing);
  app.setValidatorCompiler(({ schema, httpPart }) =>
    httpPart === 'body' ? strict.compile(schema) : coercing.compile(schema),
  );
}
