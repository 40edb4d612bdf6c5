/**
 * Stream's partial update (`set` and `unset`), alike for users, channels and messages. Fields the entity
 * keeps in columns (`known`) are handed back for the caller to check and apply; everything else is
 * custom data, changed here:
 * - `set: {color: 'blue'}` sets a custom field, and `set: {custom: {color: 'blue'}}` (the v2 API nests
 *   custom data so) merges its fields the same way: neither touches the other custom fields;
 * - a dotted name reaches into nested objects, as Stream documents (`set: {'details.topic': 'x'}`,
 *   `unset: ['details.rating']`); `custom.` names the custom data itself, so `unset: ['custom.color']`
 *   and `unset: ['color']` are the same;
 * - `unset: ['custom']` removes every custom field.
 * Unsets apply before sets. A refused update changes nothing: the caller saves only what this returns.
 */
import { inputError } from './errors.js';
import { isPlainObject, MAX_JSON_DEPTH, valueNestsDeeperThan, type JsonObject } from './json.js';

export interface PartialUpdate {
  set: JsonObject;
  unset: string[];
}

export interface AppliedPartialUpdate {
  /** Known fields to set, by name, for the caller to check and apply. */
  set: JsonObject;
  /** Known fields to unset. */
  unset: string[];
  /** The custom data after the update. */
  custom: JsonObject;
}

/** Names that would reach an object's prototype instead of a field. */
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** `a.b.c` → ['a', 'b', 'c'], refusing empty and prototype-reaching segments. */
function pathOf(name: string, field: string): string[] {
  const path = name.split('.');
  if (path.some((segment) => segment === '' || FORBIDDEN.has(segment)))
    throw inputError(field, `"${name}" is not a field name`);
  if (path.length > MAX_JSON_DEPTH)
    throw inputError(field, `names a field more than ${MAX_JSON_DEPTH} levels deep`);
  return path;
}

/** The object holding the path's last segment, created on the way when `create`; undefined when absent. */
function parentOf(
  custom: JsonObject,
  path: string[],
  create: boolean,
  field: string,
): JsonObject | undefined {
  let target = custom;
  for (const segment of path.slice(0, -1)) {
    const next = target[segment];
    if (isPlainObject(next)) {
      target = next;
    } else if (next === undefined && create) {
      target = target[segment] = {};
    } else if (next === undefined) {
      return undefined;
    } else {
      throw inputError(field, `${segment} is not an object`);
    }
  }
  return target;
}

function copy(custom: JsonObject): JsonObject {
  return JSON.parse(JSON.stringify(custom)) as JsonObject;
}

/**
 * Applies a partial update to `custom` (not changed: the result is a copy). `field` prefixes the names
 * in errors (`users.0.`).
 */
export function applyPartialUpdate(
  custom: JsonObject,
  update: PartialUpdate,
  known: ReadonlySet<string>,
  field = '',
): AppliedPartialUpdate {
  let next = copy(custom);
  const applied: AppliedPartialUpdate = { set: {}, unset: [], custom: next };
  for (const name of update.unset) {
    const where = `${field}unset`;
    if (name === 'custom') {
      next = applied.custom = {};
      continue;
    }
    const path = pathOf(name.startsWith('custom.') ? name.slice(7) : name, where);
    if (!name.startsWith('custom.') && known.has(path[0]!)) {
      applied.unset.push(name);
      continue;
    }
    const parent = parentOf(next, path, false, `${where}.${name}`);
    if (parent) delete parent[path[path.length - 1]!];
  }
  for (const [name, value] of Object.entries(update.set)) {
    const where = `${field}set.${name}`;
    if (name === 'custom') {
      if (!isPlainObject(value)) throw inputError(where, 'must be an object of custom fields');
      for (const [key, inner] of Object.entries(value)) {
        // Dotted here too: `set: {custom: {"details.topic": "x"}}` is `set: {"details.topic": "x"}`.
        const path = pathOf(key, `${where}.${key}`);
        parentOf(next, path, true, `${where}.${key}`)![path[path.length - 1]!] = inner;
      }
      continue;
    }
    const path = pathOf(name.startsWith('custom.') ? name.slice(7) : name, where);
    if (!name.startsWith('custom.') && known.has(path[0]!)) {
      applied.set[name] = value;
      continue;
    }
    parentOf(next, path, true, where)![path[path.length - 1]!] = value;
  }
  // Dotted names nest values deeper than any JSON a request may carry: the result keeps the same bound.
  if (valueNestsDeeperThan(applied.custom))
    throw inputError(`${field}set`, `nests custom data more than ${MAX_JSON_DEPTH} levels deep`);
  return applied;
}
