/**
 * `GET /members?payload=` (`channel.queryMembers(filter, sort, {limit, offset})`): one channel's
 * members, filtered and sorted as Stream's query-members documentation lists, with the filter
 * language and caps of lib/filters.ts.
 */
import type { Expression, ExpressionBuilder, Kysely, SqlBool } from 'kysely';
import type { DatabaseDialect, DialectName } from '../../database/database.js';
import type { Database, MemberRow } from '../../database/database.types.js';
import { jsonFields } from '../../database/dialects/json-fields.js';
import { inputError, notFound } from '../../lib/errors.js';
import {
  compileFilter,
  customDataFilter,
  customTextField,
  parseSort,
  type CustomField,
  type FieldSpec,
} from '../../lib/filters.js';
import { assertChannelType, assertId } from '../../lib/ids.js';
import { isPlainObject, parseJsonInput, type JsonObject } from '../../lib/json.js';
import { distinctChannelId } from './channels.members.js';
import { findChannel } from './channels.repository.js';

type MemberFilterBuilder = ExpressionBuilder<Database, 'members'>;

const MEMBER_FILTER_FIELDS: Record<string, FieldSpec> = {
  id: { column: 'members.user_id', kind: 'string' },
  user_id: { column: 'members.user_id', kind: 'string' },
  channel_role: { column: 'members.channel_role', kind: 'string' },
  created_at: { column: 'members.created_at', kind: 'time' },
  updated_at: { column: 'members.updated_at', kind: 'time' },
};

const SORT_FIELDS = new Set(['created_at', 'updated_at', 'user_id', 'channel_role']);

/** What a payload may carry; `user_id` / `user` name the querying user, which a server token need not. */
const PAYLOAD_FIELDS = new Set([
  'type',
  'id',
  'members',
  'filter_conditions',
  'sort',
  'limit',
  'offset',
  'user_id',
  'user',
]);

export const MEMBER_QUERY_LIMITS = { defaultLimit: 100, maxLimit: 300, maxOffset: 10_000 } as const;

function booleanOf(key: string, operator: string, value: unknown): boolean {
  if (operator !== '$eq' || typeof value !== 'boolean')
    throw inputError(`filter_conditions.${key}`, 'supports $eq with true or false');
  return value;
}

const never = (eb: MemberFilterBuilder) => eb.lit(false) as unknown as Expression<SqlBool>;
const always = (eb: MemberFilterBuilder) => eb.lit(true) as unknown as Expression<SqlBool>;

/**
 * A membership's invitation as Stream names it: `joined` (not invited, or the invitation accepted) and
 * `invite` (`pending`, `accepted`, `rejected`). queryMembers filters members by them, queryChannels
 * channels by the listing user's own membership.
 */
export const INVITATION_FIELDS: Readonly<Record<'joined' | 'invite', CustomField<Database, 'members'>>> = {
  joined: (eb, operator, value) => {
    const joined = eb.or([eb('members.invited', '=', 0), eb('members.invite_accepted_at', 'is not', null)]);
    return booleanOf('joined', operator, value) ? joined : eb.not(joined);
  },
  invite: (eb, operator, value) => {
    if (operator !== '$eq' || (value !== 'pending' && value !== 'accepted' && value !== 'rejected'))
      throw inputError('filter_conditions.invite', 'supports $eq with pending, accepted or rejected');
    if (value === 'pending')
      return eb.and([
        eb('members.invited', '=', 1),
        eb('members.invite_accepted_at', 'is', null),
        eb('members.invite_rejected_at', 'is', null),
      ]);
    return eb(
      value === 'accepted' ? 'members.invite_accepted_at' : 'members.invite_rejected_at',
      'is not',
      null,
    );
  },
};

/**
 * A member's `name`: their user's, which lives in the user's custom data, with the operators of a
 * user's `name` (`$autocomplete` matches the start of a word, `$q` anywhere). queryChannels filters
 * on it as `member.user.name`.
 */
export function memberNameField(dialect: DialectName, appId: number): CustomField<Database, 'members'> {
  const userName = customTextField<Database, 'users'>(jsonFields[dialect], 'users.custom', 'name');
  return (eb, operator, value) =>
    eb(
      'members.user_id',
      'in',
      eb
        .selectFrom('users')
        .select('users.id')
        .where('users.app_id', '=', appId)
        .where((user) => userName(user, operator, value)),
    );
}

/** The fields compiled by hand: a member's user, invitation and role as Stream names them. */
function memberFields(
  dialect: DatabaseDialect,
  appId: number,
): Record<string, CustomField<Database, 'members'>> {
  return {
    is_moderator: (eb, operator, value) => {
      const is = eb('members.channel_role', '=', 'channel_moderator');
      return booleanOf('is_moderator', operator, value) ? is : eb.not(is);
    },
    // chatport keeps no channel bans: no member is banned (see data-model.md).
    banned: (eb, operator, value) => (booleanOf('banned', operator, value) ? never(eb) : always(eb)),
    ...INVITATION_FIELDS,
    name: memberNameField(dialect.name, appId),
  };
}

export interface QueryMembersPayload {
  cid: string;
  filter: unknown;
  sort: unknown;
  limit: number;
  offset: number;
}

/** The payload checked: its channel (by type and id, or by the members of a distinct channel) and paging. */
export function membersPayloadFrom(text: string | undefined): QueryMembersPayload {
  if (text === undefined) throw inputError('payload', 'is required');
  let payload: unknown;
  try {
    payload = parseJsonInput(text);
  } catch (error) {
    throw inputError('payload', `must be URL-encoded JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(payload)) throw inputError('payload', 'must be a JSON object');
  for (const key of Object.keys(payload))
    if (!PAYLOAD_FIELDS.has(key)) throw inputError(key, 'is not a field of a members query');
  const { type, id } = payload as JsonObject;
  if (typeof type !== 'string') throw inputError('type', 'is required');
  assertChannelType('type', type);
  let channelId: string;
  if (id !== undefined && id !== null) {
    if (typeof id !== 'string') throw inputError('id', 'must be a string');
    channelId = assertId('id', id);
  } else {
    const members = payload.members;
    if (!Array.isArray(members) || members.length === 0)
      throw inputError('id', 'either id or members must be given');
    const ids = members.map((m: unknown, i) => {
      const userId = typeof m === 'string' ? m : isPlainObject(m) ? m.user_id : undefined;
      if (typeof userId !== 'string') throw inputError(`members.${i}`, 'must be a user id');
      return assertId(`members.${i}`, userId);
    });
    channelId = distinctChannelId(ids);
  }
  const limit = payload.limit ?? MEMBER_QUERY_LIMITS.defaultLimit;
  const offset = payload.offset ?? 0;
  if (
    typeof limit !== 'number' ||
    !Number.isInteger(limit) ||
    limit < 0 ||
    limit > MEMBER_QUERY_LIMITS.maxLimit
  )
    throw inputError('limit', `must be an integer from 0 to ${MEMBER_QUERY_LIMITS.maxLimit}`);
  if (
    typeof offset !== 'number' ||
    !Number.isInteger(offset) ||
    offset < 0 ||
    offset > MEMBER_QUERY_LIMITS.maxOffset
  )
    throw inputError('offset', `must be an integer from 0 to ${MEMBER_QUERY_LIMITS.maxOffset}`);
  const filter = payload.filter_conditions ?? {};
  if (!isPlainObject(filter)) throw inputError('filter_conditions', 'must be an object');
  for (const key of ['cid', 'channel_cid'])
    if (Object.hasOwn(filter, key))
      throw inputError(
        `filter_conditions.${key}`,
        'cannot be filtered on: a members query reads one channel',
      );
  return { cid: `${type}:${channelId}`, filter, sort: payload.sort, limit, offset };
}

/** The members of a live channel matching the payload, oldest first unless sorted otherwise. */
export async function queryMembers(
  { db, dialect }: { db: Kysely<Database>; dialect: DatabaseDialect },
  appId: number,
  payload: QueryMembersPayload,
): Promise<MemberRow[]> {
  // An empty sort list (what the SDK sends by default) keeps the default order.
  const sort = parseSort(
    Array.isArray(payload.sort) && payload.sort.length === 0 ? undefined : payload.sort,
    SORT_FIELDS,
  );
  const channel = await findChannel(db, appId, payload.cid);
  if (!channel || channel.deleted_at !== null) throw notFound(`channel ${payload.cid} does not exist`);
  let query = db
    .selectFrom('members')
    .selectAll('members')
    .where('members.app_id', '=', appId)
    .where('members.cid', '=', payload.cid)
    .where((eb) =>
      compileFilter(
        eb,
        payload.filter,
        MEMBER_FILTER_FIELDS,
        memberFields(dialect, appId),
        customDataFilter<Database, 'members'>(jsonFields[dialect.name], 'members.custom'),
      ),
    );
  for (const { field, direction } of sort)
    query = query.orderBy(`members.${field}` as 'members.created_at', direction);
  if (!sort.some((s) => s.field === 'created_at')) query = query.orderBy('members.created_at');
  return query.orderBy('members.user_id').limit(payload.limit).offset(payload.offset).execute();
}
