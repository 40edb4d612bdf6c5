import { inputError } from './errors.js';

/**
 * Stream's id alphabet, plus `.` and `!` (used by member-derived channel ids): letters, digits, @ _ - . !
 * Not `__proto__`: ids become keys of JSON objects (users by id, results by id), where JavaScript
 * would take that one for the object's prototype and lose the entry.
 */
const ID_PATTERN = /^(?!__proto__$)[\w@.!-]{1,255}$/;
const CHANNEL_TYPE_PATTERN = /^[\w-]{1,64}$/;

export function assertId(field: string, value: string): string {
  if (!ID_PATTERN.test(value)) {
    throw inputError(field, 'must be 1 to 255 letters, digits or @ _ - . ! characters, and not __proto__');
  }
  return value;
}

export function assertChannelType(field: string, value: string): string {
  if (!CHANNEL_TYPE_PATTERN.test(value)) throw inputError(field, 'must be 1 to 64 letters, digits, _ or -');
  return value;
}

/** `messaging:general` → { type, id }, or undefined when it is not a cid. */
export function parseCid(cid: string): { type: string; id: string } | undefined {
  const colon = cid.indexOf(':');
  if (colon <= 0 || colon === cid.length - 1) return undefined;
  const type = cid.slice(0, colon);
  const id = cid.slice(colon + 1);
  if (!CHANNEL_TYPE_PATTERN.test(type) || !ID_PATTERN.test(id)) return undefined;
  return { type, id };
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

export function unique<T>(items: Iterable<T>): T[] {
  return [...new Set(items)];
}

/**
 * The distinct `ids` (in their first order) in batches of at most `size`, for `in (...)` lookups; each
 * batch is padded by repeating its last id, which changes no result, to a power of two or `size`. A
 * lookup's SQL text then has one of a few lengths instead of one per number of ids: on SQLite, each new
 * text is a statement prepared, and a row builder compiled and warmed up, anew (database/dialects/sqlite.ts).
 */
export function lookupBatches<T>(ids: Iterable<T>, size: number): T[][] {
  return chunk(unique(ids), size).map((batch) => {
    let length = 1;
    while (length < batch.length) length *= 2;
    const padded = Math.min(length, size);
    while (batch.length < padded) batch.push(batch[batch.length - 1]!);
    return batch;
  });
}
