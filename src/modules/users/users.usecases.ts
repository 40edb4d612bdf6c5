import type { Kysely } from 'kysely';
import type { DatabaseDialect } from '../../database/database.js';
import type { Database, UserRow } from '../../database/database.types.js';
import { jsonFields } from '../../database/dialects/json-fields.js';
import { inputError, notFound } from '../../lib/errors.js';
import type { ClientOnlyField } from '../../lib/request-fields.js';
import { compileFilter, customTextField, parseSort, type FieldSpec } from '../../lib/filters.js';
import { isPlainObject, parseJsonInput, type JsonObject } from '../../lib/json.js';
import type { Clock } from '../../lib/time.js';
import { applyUserUpdate, userFieldsFromInput, userFieldsOf } from './users.models.js';
import { findUser, findUsersByIds, missingUserIds, upsertUserRow } from './users.repository.js';

interface Deps {
  db: Kysely<Database>;
  dialect: DatabaseDialect;
  clock: Clock;
}

/** Refuses (400 code 4, naming `field`) any of these users that does not exist, as Stream does. */
export async function assertUsersExist(
  db: Kysely<Database>,
  appId: number,
  ids: string[],
  field: string,
): Promise<void> {
  const missing = await missingUserIds(db, appId, ids);
  if (missing.length > 0)
    throw inputError(field, `users do not exist: ${missing.join(', ')}; create them first`);
}

/**
 * Creates or replaces users, as Stream's upsert does: every field not sent is removed, while
 * created_at and a soft deletion are kept. Each row is one upsert statement, so racing upserts of the
 * same new id all succeed, and each answers with the row as stored.
 */
export async function upsertUsers(
  { dialect, clock }: Deps,
  appId: number,
  users: Record<string, JsonObject>,
): Promise<UserRow[]> {
  const inputs = Object.entries(users).map(([key, user]) => {
    const fields = userFieldsFromInput(user, `users.${key}`);
    if (fields.id !== key) throw inputError(`users.${key}.id`, `must match its key "${key}"`);
    return fields;
  });
  if (inputs.length === 0) throw inputError('users', 'must name at least one user');
  if (inputs.length > 100) throw inputError('users', 'can upsert at most 100 users at once');
  return dialect.writeTransaction(async (trx) => {
    const saved = new Map<string, UserRow>();
    // In id order, so that two upserts of overlapping users queue instead of deadlocking.
    for (const input of [...inputs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
      const now = clock.nowMicros();
      const row = await upsertUserRow(trx, {
        app_id: appId,
        id: input.id,
        role: input.role,
        custom: JSON.stringify(input.custom),
        teams: JSON.stringify(input.teams),
        banned: 0,
        created_at: now,
        updated_at: now,
        deleted_at: null,
        deactivated_at: null,
      });
      saved.set(row.id, row);
    }
    return inputs.map((input) => saved.get(input.id)!);
  });
}

export interface PartialUserUpdate {
  id: string;
  set?: JsonObject;
  unset?: string[];
}

export async function partialUpdateUsers(
  { dialect, clock }: Deps,
  appId: number,
  updates: PartialUserUpdate[],
): Promise<UserRow[]> {
  if (updates.length === 0) throw inputError('users', 'must name at least one user');
  return dialect.writeTransaction(async (trx) => {
    // Locked before they are read, so that parallel partial updates apply one after the other and
    // none loses a field another set.
    await findUsersByIds(
      trx,
      appId,
      updates.map((u) => u.id),
      dialect.rowLocks,
    );
    const saved: UserRow[] = [];
    for (const [index, update] of updates.entries()) {
      const current = await findUser(trx, appId, update.id);
      if (!current) throw notFound(`user ${update.id} does not exist`);
      const fields = applyUserUpdate(
        userFieldsOf(current),
        { set: update.set ?? {}, unset: update.unset ?? [] },
        `users.${index}`,
      );
      const row: UserRow = {
        ...current,
        role: fields.role,
        teams: JSON.stringify(fields.teams),
        custom: JSON.stringify(fields.custom),
        updated_at: clock.nowMicros(),
      };
      await trx
        .updateTable('users')
        .set({ role: row.role, teams: row.teams, custom: row.custom, updated_at: row.updated_at })
        .where('app_id', '=', appId)
        .where('id', '=', row.id)
        .execute();
      saved.push(row);
    }
    return saved;
  });
}

const USER_FILTER_FIELDS: Record<string, FieldSpec> = {
  id: { column: 'id', kind: 'string', autocomplete: true },
  role: { column: 'role', kind: 'string' },
  banned: { column: 'banned', kind: 'boolean' },
  created_at: { column: 'created_at', kind: 'time' },
  updated_at: { column: 'updated_at', kind: 'time' },
  deleted_at: { column: 'deleted_at', kind: 'time' },
};
const USER_SORT_FIELDS = new Set(['id', 'role', 'created_at', 'updated_at']);

/** What a `GET /users` payload may name; `presence` only matters to a connection (lib/request-fields.ts). */
const QUERY_USERS_FIELDS = new Set<string>([
  'filter_conditions',
  'sort',
  'limit',
  'offset',
  'include_deactivated_users',
  'presence' satisfies ClientOnlyField,
]);

/**
 * `GET /users?payload=` — filter on id, role, banned and times; sort; limit (≤100) and offset.
 * `name` (custom data) takes what any custom field takes, `$autocomplete` and `$q` too; `id`
 * `$autocomplete` too. Deactivated users only with `include_deactivated_users`, as Stream does.
 */
export async function queryUsers(
  { db, dialect }: Pick<Deps, 'db' | 'dialect'>,
  appId: number,
  payloadText: string | undefined,
): Promise<UserRow[]> {
  let payload: unknown = {};
  if (payloadText !== undefined) {
    try {
      payload = parseJsonInput(payloadText);
    } catch (error) {
      throw inputError('payload', `must be URL-encoded JSON: ${(error as Error).message}`);
    }
  }
  if (!isPlainObject(payload)) throw inputError('payload', 'must be a JSON object');
  for (const key of Object.keys(payload)) {
    if (!QUERY_USERS_FIELDS.has(key)) throw inputError(key, 'is not supported by chatport');
  }
  const includeDeactivated = payload.include_deactivated_users ?? false;
  if (typeof includeDeactivated !== 'boolean')
    throw inputError('include_deactivated_users', 'must be a boolean');
  const limit = payload.limit ?? 30;
  const offset = payload.offset ?? 0;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0 || limit > 100) {
    throw inputError('limit', 'must be an integer from 0 to 100');
  }
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0 || offset > 1000) {
    throw inputError('offset', 'must be an integer from 0 to 1000');
  }
  const sort = parseSort(payload.sort, USER_SORT_FIELDS);
  let query = db
    .selectFrom('users')
    .selectAll()
    .where('app_id', '=', appId)
    .where((eb) =>
      compileFilter(eb, payload.filter_conditions, USER_FILTER_FIELDS, {
        // A user's name is custom data, as Stream keeps it.
        name: customTextField(jsonFields[dialect.name], 'users.custom', 'name'),
      }),
    )
    .$if(!includeDeactivated, (q) => q.where('deactivated_at', 'is', null));
  for (const { field, direction } of sort) query = query.orderBy(field as 'id', direction);
  if (!sort.some((s) => s.field === 'created_at')) query = query.orderBy('created_at');
  return query.orderBy('id').limit(limit).offset(offset).execute();
}

/** Clears the soft deletion of these users. Unknown or hard-deleted users are an error. */
export async function restoreUsers({ db, clock }: Deps, appId: number, userIds: string[]): Promise<void> {
  if (userIds.length === 0) throw inputError('user_ids', 'must name at least one user');
  await db.transaction().execute(async (trx) => {
    const found = await findUsersByIds(trx, appId, userIds);
    const missing = userIds.filter((id) => !found.has(id));
    if (missing.length > 0) throw notFound(`users ${missing.join(', ')} do not exist`);
    await trx
      .updateTable('users')
      .set({ deleted_at: null, updated_at: clock.nowMicros() })
      .where('app_id', '=', appId)
      .where('id', 'in', userIds)
      .execute();
  });
}
