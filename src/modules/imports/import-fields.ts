/**
 * Readers for the fields of an import line's `data`: each returns the value or throws
 * `inputError("data.<key>", reason)`, which the importer turns into an error naming the line.
 * Pure functions; they sit on the hot path, so they avoid allocating where a check will do.
 */
import { inputError } from '../../lib/errors.js';
import { assertChannelType, assertId } from '../../lib/ids.js';
import { isPlainObject, type JsonObject } from '../../lib/json.js';
import { parseTimestamp } from '../../lib/time.js';

const field = (key: string) => `data.${key}`;

export function optionalString(data: JsonObject, key: string): string | undefined {
  const value = data[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw inputError(field(key), 'must be a string');
  return value;
}

export function requiredId(data: JsonObject, key: string): string {
  const value = data[key];
  if (typeof value !== 'string') throw inputError(field(key), 'is required and must be a string');
  return assertId(field(key), value);
}

export function optionalId(data: JsonObject, key: string): string | undefined {
  const value = optionalString(data, key);
  return value === undefined ? undefined : assertId(field(key), value);
}

/** A user named by id (`"u1"`) or by object (`{"id":"u1"}`), under the first of `keys` present. */
export function optionalUserRef(data: JsonObject, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = data[key];
    if (value === undefined || value === null) continue;
    if (typeof value === 'string') return assertId(field(key), value);
    if (isPlainObject(value) && typeof value.id === 'string') return assertId(`${field(key)}.id`, value.id);
    throw inputError(field(key), 'must be a user id or an object with an id');
  }
  return undefined;
}

export function requiredUserRef(data: JsonObject, ...keys: string[]): string {
  const id = optionalUserRef(data, ...keys);
  if (id === undefined) throw inputError(field(keys[0]!), 'is required');
  return id;
}

/** A boolean flag as the 0/1 stored; absent or null is 0. */
export function flag(data: JsonObject, key: string): 0 | 1 {
  const value = data[key];
  if (value === undefined || value === null || value === false) return 0;
  if (value === true) return 1;
  throw inputError(field(key), 'must be a boolean');
}

/** The channel a line names: `channel_type` + `channel_id` (or `type` + `id` on a channel line), or `cid`. */
export function channelRef(
  data: JsonObject,
  typeKey: string,
  idKey: string,
): { type: string; id: string; cid: string } {
  const cid = optionalString(data, 'cid');
  const type = optionalString(data, typeKey);
  const id = optionalString(data, idKey);
  if (type !== undefined && id !== undefined) {
    assertChannelType(field(typeKey), type);
    assertId(field(idKey), id);
    const named = `${type}:${id}`;
    if (cid !== undefined && cid !== named) throw inputError(field('cid'), `does not match ${named}`);
    return { type, id, cid: named };
  }
  if (cid !== undefined && type === undefined && id === undefined) {
    const colon = cid.indexOf(':');
    if (colon > 0) {
      const fromCid = { type: cid.slice(0, colon), id: cid.slice(colon + 1) };
      assertChannelType(field('cid'), fromCid.type);
      assertId(field('cid'), fromCid.id);
      return { ...fromCid, cid };
    }
    throw inputError(field('cid'), 'must be <type>:<id>');
  }
  const absent = type === undefined ? typeKey : idKey;
  throw inputError(field(absent), `is required (${field(typeKey)} and ${field(idKey)}, or data.cid)`);
}

/**
 * Custom data: every field not in `known`, then the fields of a nested `custom` object (the newer API's
 * shape), as the API stores it. A null-prototype accumulator keeps a `__proto__` key an ordinary field.
 */
export function customJson(data: JsonObject, known: ReadonlySet<string>): string {
  let custom: JsonObject | undefined;
  for (const key in data) {
    if (known.has(key)) continue;
    const value = data[key];
    if (value === undefined) continue;
    custom ??= Object.create(null) as JsonObject;
    custom[key] = value;
  }
  const nested = data.custom;
  if (isPlainObject(nested)) {
    custom ??= Object.create(null) as JsonObject;
    for (const key in nested) custom[key] = nested[key];
  }
  return custom ? JSON.stringify(custom) : '{}';
}

let cachedSecondText = '';
let cachedSecondMicros = 0;

/**
 * RFC 3339 to microseconds. Export files write `YYYY-MM-DDTHH:MM:SS.ffffffZ` and neighbouring lines
 * mostly share their second, so that second is remembered and a line in it costs six digit reads.
 */
function micros(text: string): number | null {
  const canonical = text.length === 27 && text.charCodeAt(19) === 46 && text.charCodeAt(26) === 90;
  if (canonical && cachedSecondText !== '' && text.startsWith(cachedSecondText)) {
    let fraction = 0;
    for (let i = 20; i < 26; i++) {
      const digit = text.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) return null;
      fraction = fraction * 10 + digit;
    }
    return cachedSecondMicros + fraction;
  }
  const parsed = parseTimestamp(text);
  if (parsed !== null && canonical) {
    cachedSecondText = text.slice(0, 19);
    cachedSecondMicros = parsed - Number(text.slice(20, 26));
  }
  return parsed;
}

/** A timestamp field in microseconds; undefined when absent or null. */
export function optionalTime(data: JsonObject, key: string): number | undefined {
  const value = data[key];
  if (value === undefined || value === null) return undefined;
  const parsed = typeof value === 'string' ? micros(value) : null;
  if (parsed === null) throw inputError(field(key), 'must be an RFC 3339 timestamp');
  return parsed;
}

/** A JSON array of objects (attachments), as stored text. */
export function objectListJson(data: JsonObject, key: string): string {
  const value = data[key];
  if (value === undefined || value === null) return '[]';
  if (!Array.isArray(value) || !value.every(isPlainObject))
    throw inputError(field(key), 'must be a list of objects');
  return value.length === 0 ? '[]' : JSON.stringify(value);
}

/** A list of user ids, given as ids or `{id}` objects, without repeats. */
export function userIdList(data: JsonObject, key: string): string[] {
  const value = data[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw inputError(field(key), 'must be a list of user ids');
  if (value.length === 0) return [];
  const ids = new Set<string>();
  for (const entry of value) {
    const id = typeof entry === 'string' ? entry : isPlainObject(entry) ? entry.id : undefined;
    if (typeof id !== 'string') throw inputError(field(key), 'must be a list of user ids');
    ids.add(assertId(field(key), id));
  }
  return [...ids];
}
