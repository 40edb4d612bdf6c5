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
