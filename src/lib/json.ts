/** Small JSON helpers for the `custom` columns: objects of fields carried flattened beside known ones. */

export type JsonObject = Record<string, unknown>;

export function parseObject(text: string | null | undefined): JsonObject {
  if (!text) return {};
  const value: unknown = JSON.parse(text);
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : {};
}

export function parseArray<T = unknown>(text: string | null | undefined): T[] {
  if (!text) return [];
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? (value as T[]) : [];
}

/** Splits an input object into its known fields and the custom rest. */
export function splitCustom(input: JsonObject, known: ReadonlySet<string>): { custom: JsonObject } {
  const custom: JsonObject = {};
  for (const [key, value] of Object.entries(input)) {
    // `__proto__` would set the object's prototype, not a field: never a custom field.
    if (!known.has(key) && value !== undefined && key !== '__proto__') custom[key] = value;
  }
  return { custom };
}

export function isPlainObject(value: unknown): value is JsonObject {
  return Boolean(value) && typeof value === 'object' && !Array.isArray(value);
}

/** A client-given key looked up among a record's own properties only, never its prototype's. */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * Deepest nesting of objects and arrays accepted in JSON a client sends, in a body or a query string
 * (MongoDB's limit for documents). SQLite's JSON functions stop at 1000 levels, and JavaScript's
 * recursive walks (revivers, JSON.stringify) overflow the stack far short of what 1 MiB can nest.
 */
export const MAX_JSON_DEPTH = 100;

/** Whether a value nests objects and arrays deeper than `limit`, found without recursion. */
export function valueNestsDeeperThan(value: unknown, limit: number = MAX_JSON_DEPTH): boolean {
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [item, depth] = pending.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (depth >= limit) return true;
    for (const inner of Object.values(item)) pending.push([inner, depth + 1]);
  }
  return false;
}

/** Why a client's JSON text is refused; the caller names the field it came in. */
export class JsonInputError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'JsonInputError';
  }
}

/** Whether objects and arrays nest deeper than `limit`, found without recursion (no stack to overflow). */
function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * Parses JSON a client sent, refusing what no request needs and later steps cannot take: nesting
 * deeper than MAX_JSON_DEPTH, a NUL character in any key or string (PostgreSQL text cannot hold one,
 * and refusing it on SQLite too keeps the two databases alike), and `__proto__` keys (prototype
 * poisoning). Throws JsonInputError with the reason.
 */
export function parseJsonInput(text: string): unknown {
  if (text.length > MAX_JSON_DEPTH && nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new JsonInputError(`objects and arrays nest deeper than ${MAX_JSON_DEPTH} levels`);
  }
  try {
    return JSON.parse(text, (key, value: unknown) => {
      if (key === '__proto__') throw new JsonInputError(`forbidden key "${key}"`);
      if (key.includes('\u0000')) throw new JsonInputError('a key contains a NUL character');
      if (typeof value === 'string' && value.includes('\u0000')) {
        throw new JsonInputError(`the value of "${key}" contains a NUL character`);
      }
      return value;
    });
  } catch (error) {
    if (error instanceof JsonInputError) throw error;
    throw new JsonInputError(error instanceof Error ? error.message : 'invalid JSON');
  }
}
