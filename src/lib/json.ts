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
