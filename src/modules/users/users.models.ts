import type { UserRow } from '../../database/database.types.js';
import { inputError } from '../../lib/errors.js';
import { assertId } from '../../lib/ids.js';
import { isPlainObject, parseArray, parseObject, splitCustom, type JsonObject } from '../../lib/json.js';
import { applyPartialUpdate, type PartialUpdate } from '../../lib/partial-update.js';
import { fullUserShape } from './users.shape.js';

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
  // Every name a response shows is known: a user echoed back (its `channel_mutes` too) is no custom data.
  const { custom } = splitCustom(input, fullUserShape.known);
  // The newer API nests custom data under `custom`; accept it flattened the way the SDKs send it too.
  if (isPlainObject(input.custom)) Object.assign(custom, input.custom);
  return { id, role, teams: teams as string[], custom };
}

/**
 * Applies a partial update (lib/partial-update.ts) to the stored fields: `role` and `teams` may be set,
 * `teams` unset; every other custom field merges into the custom data. Other known fields are refused.
 */
export function applyUserUpdate(current: UserFields, update: PartialUpdate, field: string): UserFields {
  const applied = applyPartialUpdate(current.custom, update, fullUserShape.known, `${field}.`);
  const next: UserFields = { role: current.role, teams: [...current.teams], custom: applied.custom };
  for (const key of applied.unset) {
    if (key !== 'teams') throw inputError(`${field}.unset`, `cannot unset ${key}`);
    next.teams = [];
  }
  for (const [key, value] of Object.entries(applied.set)) {
    if (key === 'role') {
      if (typeof value !== 'string' || !ROLE_PATTERN.test(value))
        throw inputError(`${field}.set.role`, 'must be a role name');
      next.role = value;
    } else if (key === 'teams') {
      if (!Array.isArray(value) || !value.every((t) => typeof t === 'string')) {
        throw inputError(`${field}.set.teams`, 'must be a list of strings');
      }
      next.teams = value as string[];
    } else {
      const why = key === 'id' ? 'cannot change a user id' : 'cannot be changed by a partial update';
      throw inputError(`${field}.set.${key}`, why);
    }
  }
  return next;
}

export function userFieldsOf(row: UserRow): UserFields {
  return { role: row.role, teams: parseArray<string>(row.teams), custom: parseObject(row.custom) };
}
