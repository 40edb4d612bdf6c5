/**
 * Export JSON built by the database. The heavy parts of an export (every message and reaction) are
 * encoded by SQL expressions compiled from the shapes' encoding plans (lib/shapes/shape-plan.ts), the
 * same plans the JavaScript encoders fill in, and a page of them is aggregated into one value that
 * reaches Node in one piece, ready for the file: no row objects, no per-field JSON.stringify.
 * test/exports/export-encoding.test.ts holds both encodings to the same bytes on awkward data, on both
 * databases.
 *
 * Expressions are SQL text over trusted names (aliases, columns); values that vary go in as bound
 * parameters by the caller, and the few constants (a channel's type and id) as escaped literals.
 */
import type { ChannelRow } from '../../database/database.types.js';
import {
  encodingPlan,
  type ColumnValue,
  type PlanOptions,
  type PlanPart,
} from '../../lib/shapes/shape-plan.js';
import type { FlatForm, Shape } from '../../lib/shapes/shape.js';
import { messageShape } from '../messages/messages.shape.js';
import { reactionShape } from '../reactions/reactions.shape.js';
import { missingUserShape, userShape } from '../users/users.shape.js';
import { LINE_SUFFIX, linePrefix } from './export-lines.js';
import type { ExportSqlDialect } from './export-sql.dialects.js';

/** A SQL string literal. */
export function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** A user's JSON by id expression: what `user(id)` gives in the v1 encoders. */
export type UserLookupSql = (id: string) => string;

export interface ShapeSqlOptions extends Omit<PlanOptions, 'supplied'> {
  /** The SQL of one of the row's columns, by name. */
  column: (name: string) => string;
  /** The JSON of a user by id expression, for `user` and `users` fields (v1). */
  user?: UserLookupSql;
  /** JSON text expressions of supplied fields, and of `user` fields looked up otherwise, by name. */
  values?: Record<string, string>;
}

const bool = (column: string) => `case when ${column} = 1 then 'true' else 'false' end`;

function columnSql(sql: ExportSqlDialect, value: ColumnValue, options: ShapeSqlOptions): string {
  const column = options.column(value.column);
  const user = () => {
    if (!options.user) throw new Error(`${value.name} needs a user lookup to be encoded`);
    return options.user;
  };
  let encoded: string;
  switch (value.kind) {
    case 'string':
      encoded = value.mapped
        ? `case ${column} ${Object.entries(value.mapped.cases)
            .map(([from, to]) => `when ${literal(from)} then ${literal(JSON.stringify(to))}`)
            .join(' ')} else ${literal(JSON.stringify(value.mapped.otherwise))} end`
        : sql.quote(column);
      break;
    case 'flag':
      encoded = bool(column);
      break;
    case 'integer':
    case 'json':
      encoded = column;
      break;
    case 'time':
      encoded = sql.time(column);
      break;
    case 'user':
      encoded = options.values?.[value.name] ?? user()(column);
      break;
    case 'users':
      encoded =
        `case when length(${column}) > 2 then (select '[' || ` +
        `${sql.aggregate(user()('j.value'), ',', 'j.key')} || ']' from ${sql.arrayElements(column, 'j')}) ` +
        `else '[]' end`;
      break;
  }
  const replaced = value.replaced;
  if (!replaced) return encoded;
  return `case when ${options.column(replaced.column)} is null then ${encoded} else ${literal(replaced.byJson)} end`;
}

function partSql(sql: ExportSqlDialect, part: PlanPart, options: ShapeSqlOptions): string {
  switch (part.part) {
    case 'text':
      return literal(part.text);
    case 'custom': {
      // `{"a":1}` → `"a":1,` and `{}` → empty, as customPrefix does.
      const column = options.column(part.column);
      return `case when length(${column}) > 2 then substr(${column}, 2, length(${column}) - 2) || ',' else '' end`;
    }
    case 'column':
      return columnSql(sql, part, options);
    case 'supplied': {
      const value = options.values?.[part.name];
      if (value === undefined) throw new Error(`${part.name} was not supplied`);
      return value;
    }
    case 'group': {
      const inner = part.parts.map((p) => partSql(sql, p, options)).join(' || ');
      const [, only] = part.parts;
      // A time alone on its own column: NULL already propagates through `||`.
      if (
        part.parts.length === 3 &&
        only?.part === 'column' &&
        only.kind === 'time' &&
        only.column === part.when
      )
        return `coalesce(${inner}, '')`;
      return `case when ${options.column(part.when)} is null then '' else ${inner} end`;
    }
  }
}

/** The SQL of a shape's flat form: one concat of literal pieces and column expressions. */
export function shapeSql<Row>(
  sql: ExportSqlDialect,
  shape: Shape<Row>,
  form: FlatForm,
  options: ShapeSqlOptions,
): string {
  const plan = encodingPlan(shape as Shape<unknown>, form, {
    ...options,
    supplied: Object.keys(options.values ?? {}),
  });
  return sql.concat(plan.map((part) => partSql(sql, part, options)));
}

const columnsOf = (alias: string) => (name: string) => `${alias}.${name}`;

/** userJson(row) of the users row aliased `u`. */
export function userJsonSql(sql: ExportSqlDialect, u: string): string {
  return shapeSql(sql, userShape, 'v1', { column: columnsOf(u) });
}

/** missingUserJson(id) of a text expression. */
export function missingUserJsonSql(sql: ExportSqlDialect, id: string): string {
  return shapeSql(sql, missingUserShape, 'v1', { column: () => id });
}

/** messageLineV2(row, channel, clearDeletedText) of the messages row aliased `m`. */
export function messageLineV2Sql(
  sql: ExportSqlDialect,
  m: string,
  channel: Pick<ChannelRow, 'type' | 'id'>,
  clearDeletedText: boolean,
): string {
  return shapeSql(sql, messageShape, 'line', {
    column: columnsOf(m),
    fixed: { channel_type: channel.type, channel_id: channel.id },
    options: { clearDeletedText },
    prefix: linePrefix('message'),
    suffix: LINE_SUFFIX,
  });
}

/** reactionLineV2(row) of the reactions row aliased `r`. */
export function reactionLineV2Sql(sql: ExportSqlDialect, r: string): string {
  return shapeSql(sql, reactionShape, 'line', {
    column: columnsOf(r),
    prefix: linePrefix('reaction'),
    suffix: LINE_SUFFIX,
  });
}

/** The users row's JSON, else the stand-in of a deleted user: for an id the export's user table lacks. */
function usersRowOrMissingSql(sql: ExportSqlDialect, id: string, appId: string): string {
  return (
    `(select ${userJsonSql(sql, 'u')} from users u where u.app_id = ${appId} and u.id = ${id}), ` +
    missingUserJsonSql(sql, id)
  );
}

/**
 * The user lookup of a v1 export: the export's table of serialised users (`cache`, filled with the
 * channel's members), else the users row, else the stand-in of a deleted user.
 */
export function userLookupSql(sql: ExportSqlDialect, cache: string, appId: string): UserLookupSql {
  return (id) =>
    `coalesce((select c.json from ${cache} c where c.id = ${id}), ${usersRowOrMissingSql(sql, id, appId)})`;
}

/**
 * userLookupSql's answer for `id` when the export's user table is already joined on it as `joined`:
 * one join a page rather than a lookup a message.
 */
export function joinedUserSql(sql: ExportSqlDialect, joined: string, id: string, appId: string): string {
  return `coalesce(${joined}.json, ${usersRowOrMissingSql(sql, id, appId)})`;
}

/** The ORDER BY of a message's reactions, newest first, as reactionsByMessage returns them. */
export const NEWEST_REACTIONS_FIRST = 'r.created_at desc, r.user_id, r.type';

/** `[...]` of reactionJson over the reactions rows aliased `r`, newest first; NULL when there are none. */
export function reactionsJsonSql(sql: ExportSqlDialect, user: UserLookupSql): string {
  const reaction = shapeSql(sql, reactionShape, 'v1', { column: columnsOf('r'), user });
  return `'[' || ${sql.aggregate(reaction, ',', NEWEST_REACTIONS_FIRST)} || ']'`;
}

/**
 * True for a messages row aliased `m` that holds reactions. `reaction_counts` is derived from the
 * reactions in the same transaction as every change to them (refreshReactionSummaries, the importer's
 * counters), so it is `{}` exactly when there are none; most messages have none, and testing it
 * spares them a reactions lookup.
 */
export function hasReactionsSql(m: string): string {
  return `${m}.reaction_counts <> '{}'`;
}

/** The `[...]` of the reactions on the messages row aliased `m`, by a subquery of its own. */
export function messageReactionsSql(sql: ExportSqlDialect, m: string, user: UserLookupSql): string {
  return `case when ${hasReactionsSql(m)} then coalesce((select ${reactionsJsonSql(sql, user)} from reactions r where r.app_id = ${m}.app_id and r.message_id = ${m}.id), '[]') else '[]' end`;
}

/** What a v1 message embeds besides its own row, as SQL expressions. */
export interface MessageV1Pieces {
  /** user(id), for the users it mentions. */
  user: UserLookupSql;
  /** Its author's JSON. */
  author: string;
  /** `[...]` of every reaction on it, newest first. */
  reactions: string;
}

/**
 * messageJsonV1(row, pieces) of the messages row aliased `m`, with `latest_reactions` holding every
 * reaction on the message, newest first.
 */
export function messageJsonV1Sql(
  sql: ExportSqlDialect,
  m: string,
  { user, author, reactions }: MessageV1Pieces,
  clearDeletedText: boolean,
): string {
  return shapeSql(sql, messageShape, 'v1', {
    column: columnsOf(m),
    user,
    values: { user: author, latest_reactions: reactions },
    fixed: { own_reactions: [] },
    options: { clearDeletedText },
  });
}
