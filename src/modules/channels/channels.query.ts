import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import type { DatabaseDialect } from '../../database/database.js';
import type { ChannelRow, Database } from '../../database/database.types.js';
import { jsonFields } from '../../database/dialects/json-fields.js';
import { inputError } from '../../lib/errors.js';
import {
  compileFilter,
  customDataFilter,
  customTextField,
  parseSort,
  type CustomField,
  type FieldSpec,
} from '../../lib/filters.js';
import { isPlainObject } from '../../lib/json.js';
import { INVITATION_FIELDS, memberNameField } from './channels.member-query.js';

const CHANNEL_FILTER_FIELDS: Record<string, FieldSpec> = {
  cid: { column: 'cid', kind: 'string' },
  type: { column: 'type', kind: 'string' },
  id: { column: 'id', kind: 'string' },
  created_by_id: { column: 'created_by_id', kind: 'string' },
  frozen: { column: 'frozen', kind: 'boolean' },
  disabled: { column: 'disabled', kind: 'boolean' },
  member_count: { column: 'member_count', kind: 'integer' },
  created_at: { column: 'created_at', kind: 'time' },
  updated_at: { column: 'updated_at', kind: 'time' },
  last_message_at: { column: 'last_message_at', kind: 'time' },
};

const SORT_FIELDS = new Set([
  'created_at',
  'updated_at',
  'last_message_at',
  'last_updated',
  'member_count',
  'cid',
]);

type MemberCondition = (eb: ExpressionBuilder<Database, 'members'>) => Expression<SqlBool>;

/** The cids of the app's channels that have a member matching `condition`. */
function cidsWithMember(
  eb: ExpressionBuilder<Database, 'channels'>,
  appId: number,
  condition: MemberCondition,
) {
  return eb
    .selectFrom('members')
    .select('members.cid')
    .where('members.app_id', '=', appId)
    .where((m) => condition(m));
}

/** `members: {$in: [ids]}` (or `$eq`/a bare list): channels where any of those users is a member. */
function membersField(appId: number): CustomField<Database, 'channels'> {
  return (eb, operator, value) => {
    const ids = Array.isArray(value) ? value : [value];
    if ((operator !== '$in' && operator !== '$eq') || !ids.every((v) => typeof v === 'string')) {
      throw inputError('filter_conditions.members', 'supports $in (or $eq) with user ids');
    }
    if (ids.length === 0) return eb.lit(false) as unknown as Expression<SqlBool>;
    return eb(
      'cid',
      'in',
      cidsWithMember(eb, appId, (m) => m('members.user_id', 'in', ids as string[])),
    );
  };
}

/** Whether a filter names `field` anywhere, inside `$and`, `$or` and `$nor` too. */
function filterNames(filter: unknown, field: string): boolean {
  if (Array.isArray(filter)) return filter.some((inner) => filterNames(inner, field));
  if (!isPlainObject(filter)) return false;
  return Object.entries(filter).some(
    ([key, value]) => key === field || (key.startsWith('$') && filterNames(value, field)),
  );
}

/**
 * The fields that depend on the user the channels are listed for (`user_id`, or a user token): their
 * membership's `hidden`, `pinned` and `archived` state, its invitation (`joined`, `invite`, as in
 * queryMembers), and their unexpired channel mutes (`muted`).
 */
function ownFields(
  appId: number,
  userId: string | undefined,
  now: number,
): Record<string, CustomField<Database, 'channels'>> {
  const listingUser = (key: string): string => {
    if (userId === undefined)
      throw inputError(`filter_conditions.${key}`, 'needs the user the channels are listed for (user_id)');
    return userId;
  };
  const flag = (key: string, value: unknown, operator: string): boolean => {
    if (operator !== '$eq' || typeof value !== 'boolean')
      throw inputError(`filter_conditions.${key}`, 'supports $eq with true or false');
    listingUser(key);
    return value;
  };
  /** The cids of the channels where the listing user's membership matches `condition`. */
  const ownCids = (eb: ExpressionBuilder<Database, 'channels'>, key: string, condition: MemberCondition) => {
    const user = listingUser(key);
    return cidsWithMember(eb, appId, (m) => m.and([m('members.user_id', '=', user), condition(m)]));
  };
  const ownMembership =
    (key: string, field: CustomField<Database, 'members'>) =>
    (eb: ExpressionBuilder<Database, 'channels'>, operator: string, value: unknown) =>
      eb(
        'cid',
        'in',
        ownCids(eb, key, (m) => field(m, operator, value)),
      );
  const memberState =
    (key: string, condition: MemberCondition) =>
    (eb: ExpressionBuilder<Database, 'channels'>, operator: string, value: unknown) => {
      const wanted = flag(key, value, operator);
      const cids = ownCids(eb, key, condition);
      return wanted ? eb('cid', 'in', cids) : eb('cid', 'not in', cids);
    };
  return {
    hidden: memberState('hidden', (m) => m('members.hidden', '=', 1)),
    pinned: memberState('pinned', (m) => m('members.pinned_at', 'is not', null)),
    archived: memberState('archived', (m) => m('members.archived_at', 'is not', null)),
    joined: ownMembership('joined', INVITATION_FIELDS.joined),
    invite: ownMembership('invite', INVITATION_FIELDS.invite),
    muted: (eb, operator, value) => {
      const wanted = flag('muted', value, operator);
      const cids = eb
        .selectFrom('channel_mutes')
        .select('channel_mutes.cid')
        .where('channel_mutes.app_id', '=', appId)
        .where('channel_mutes.user_id', '=', userId!)
        .where((m) =>
          m.or([m('channel_mutes.expires_at', 'is', null), m('channel_mutes.expires_at', '>', now)]),
        );
      return wanted ? eb('cid', 'in', cids) : eb('cid', 'not in', cids);
    },
  };
}

export interface QueryChannelsInput {
  filter: unknown;
  sort: unknown;
  limit: number;
  offset: number;
  /** The user the channels are listed for: their hidden channels stay out unless `hidden` is filtered on. */
  userId?: string;
  now: number;
}

/**
 * `POST /channels`: the app's live (not soft-deleted) channels matching the filter. Disabled channels
 * are left out unless the filter names `disabled`, as Stream does. Any other field is the channel's
 * custom data (`name`, `team`, a field of the app's own), `name` taking `$autocomplete` and `$q` too.
 */
export async function queryChannelRows(
  { db, dialect }: { db: Kysely<Database>; dialect: DatabaseDialect },
  appId: number,
  input: QueryChannelsInput,
): Promise<ChannelRow[]> {
  if (input.filter !== undefined && !isPlainObject(input.filter))
    throw inputError('filter_conditions', 'must be an object');
  const sort = parseSort(input.sort, SORT_FIELDS);
  const own = ownFields(appId, input.userId, input.now);
  const json = jsonFields[dialect.name];
  const memberName = memberNameField(dialect.name, appId);
  const fields: Record<string, CustomField<Database, 'channels'>> = {
    members: membersField(appId),
    ...own,
    name: customTextField<Database, 'channels'>(json, 'channels.custom', 'name'),
    // Channels where any member's user has a name matching the condition.
    'member.user.name': (eb, operator, value) =>
      eb(
        'cid',
        'in',
        cidsWithMember(eb, appId, (m) => memberName(m, operator, value)),
      ),
  };
  let query = db
    .selectFrom('channels')
    .selectAll()
    .where('app_id', '=', appId)
    .where('deleted_at', 'is', null)
    .$if(!filterNames(input.filter, 'disabled'), (q) => q.where('disabled', '=', 0))
    .where((eb) =>
      compileFilter(
        eb,
        input.filter,
        CHANNEL_FILTER_FIELDS,
        fields,
        customDataFilter<Database, 'channels'>(json, 'channels.custom'),
      ),
    );
  // As Stream does, a user's hidden channels are left out unless the filter asks about `hidden`.
  if (input.userId !== undefined && !filterNames(input.filter, 'hidden'))
    query = query.where((eb) => own.hidden!(eb, '$eq', false));
  const order = sort.length > 0 ? sort : [{ field: 'last_updated', direction: 'desc' as const }];
  for (const { field, direction } of order) {
    if (field === 'last_updated') {
      query = query.orderBy(
        sql`case when last_message_at is not null and last_message_at > updated_at then last_message_at else updated_at end`,
        direction,
      );
    } else if (field === 'last_message_at') {
      query = query.orderBy(sql`coalesce(last_message_at, 0)`, direction);
    } else query = query.orderBy(field as 'created_at', direction);
  }
  return query.orderBy('cid').limit(input.limit).offset(input.offset).execute();
}
