import type { UserRow } from '../../database/database.types.js';
import { inputError } from '../../lib/errors.js';
import { assertId } from '../../lib/ids.js';
import { isPlainObject, parseArray, parseObject, splitCustom, type JsonObject } from '../../lib/json.js';
import { userShape } from './users.shape.js';

const ROLE_PATTERN = /^[\w-]{1,64}$/;

export interface UserFields {
  role: string;
  teams: string[];
  custom: JsonObject;
}

/** Normalises a user as it arrives in an upsert; read-only fields (timestamps, online) are ignored. */
export function userFieldsFromInput(input: JsonObject, field: string): { id: string } & UserFields {
  const id = input.id;
  if (typeof id !== 'string') throw inputError(`${field}.id`, 'is required and must be a string');
  assertId(`${field}.id`, id);
  const role = input.role ?? 'user';
  if (typeof role !== 'string' || !ROLE_PATTERN.test(role))
    throw inputError(`${field}.role`, 'must be a role name');
  const teams = input.teams ?? [];
  if (!Array.isArray(teams) || !teams.every((t) => typeof t === 'string')) {
    throw inputError(`${field}.teams`, 'must be a list of strings');
  }
  const { custom } = splitCustom(input, userShape.known);
  // The newer API nests custom data under `custom`; accept it flattened the way the SDKs send it too.
  if (isPlainObject(input.custom)) Object.assign(custom, input.custom);
  return { id, role, teams: teams as string[], custom };
}

/** Applies `set` / `unset` of a partial update to the stored fields. */
export function applyPartialUpdate(
  current: UserFields,
  set: JsonObject,
  unset: string[],
  field: string,
): UserFields {
  const next: UserFields = { role: current.role, teams: [...current.teams], custom: { ...current.custom } };
  for (const key of unset) {
    if (key === 'id' || key === 'role') throw inputError(`${field}.unset`, `cannot unset ${key}`);
    if (key === 'teams') next.teams = [];
    else delete next.custom[key];
  }
  for (const [key, value] of Object.entries(set)) {
    if (key === 'id') throw inputError(`${field}.set.id`, 'cannot change a user id');
    if (key === 'role') {
      if (typeof value !== 'string' || !ROLE_PATTERN.test(value))
        throw inputError(`${field}.set.role`, 'must be a role name');
      next.role = value;
    } else if (key === 'teams') {
      if (!Array.isArray(value) || !value.every((t) => typeof t === 'string')) {
        throw inputError(`${field}.set.teams`, 'must be a list of strings');
      }
      next.teams = value as string[];
    } else if (!userShape.known.has(key)) {
      next.custom[key] = value;
    }
  }
  return next;
}

export function userFieldsOf(row: UserRow): UserFields {
  return { role: row.role, teams: parseArray<string>(row.teams), custom: parseObject(row.custom) };
}
