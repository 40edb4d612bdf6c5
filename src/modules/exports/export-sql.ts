/**
 * Export JSON built by the database. The heavy parts of an export (every message and reaction) are
 * encoded by SQL expressions that mirror export-serializers.ts field by field, and a page of them is
 * aggregated into one value that reaches Node in one piece, ready for the file: no row objects, no
 * per-field JSON.stringify. test/exports/export-encoding.test.ts holds both encodings to the same
 * bytes on awkward data, on both databases.
 *
 * Expressions are SQL text over trusted names (aliases, columns); values that vary go in as bound
 * parameters by the caller, and the few constants (a channel's type and id) as escaped literals.
 */
import type { ChannelRow } from '../../database/database.types.js';
import type { ExportSqlDialect } from './export-sql.dialects.js';

/** A SQL string literal. */
export function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

const bool = (column: string) => `case when ${column} = 1 then 'true' else 'false' end`;

/** `{"a":1}` → `"a":1,` and `{}` → empty, as customPrefix does. */
const customPrefix = (column: string) =>
  `case when length(${column}) > 2 then substr(${column}, 2, length(${column}) - 2) || ',' else '' end`;

/** `,"name":"<time>"` when the column is not null, else empty. */
function optionalTime(sql: ExportSqlDialect, name: string, column: string): string {
  return `coalesce(',"${name}":"' || ${sql.time(column)} || '"', '')`;
}

/** `,"created_at":"<time>","updated_at":"<time>"` of the row aliased `a`, as concat parts. */
function createdUpdated(sql: ExportSqlDialect, a: string): string[] {
  return [
    `',"created_at":"'`,
    sql.time(`${a}.created_at`),
    `'","updated_at":"'`,
    sql.time(`${a}.updated_at`),
    `'"'`,
  ];
}

/** userJson(row) of the users row aliased `u`. */
export function userJsonSql(sql: ExportSqlDialect, u: string): string {
  return sql.concat([
    `'{'`,
    customPrefix(`${u}.custom`),
    `'"id":'`,
    sql.quote(`${u}.id`),
    `',"role":'`,
    sql.quote(`${u}.role`),
    `',"teams":'`,
    `${u}.teams`,
    `',"banned":'`,
    bool(`${u}.banned`),
    `',"online":false'`,
    ...createdUpdated(sql, u),
    optionalTime(sql, 'deleted_at', `${u}.deleted_at`),
    optionalTime(sql, 'deactivated_at', `${u}.deactivated_at`),
    `'}'`,
  ]);
}

/** missingUserJson(id) of a text expression. */
export function missingUserJsonSql(sql: ExportSqlDialect, id: string): string {
  return `'{"id":' || ${sql.quote(id)} || ',"role":"user","teams":[],"banned":false,"online":false,"deleted":true}'`;
}

/** The `,"parent_id":..,"show_in_channel":..` / quoted / deleted tail every message encoding shares. */
function messageTail(sql: ExportSqlDialect, m: string): string[] {
  return [
    `case when ${m}.parent_id is null then '' else ',"parent_id":' || ${sql.quote(`${m}.parent_id`)} || ',"show_in_channel":' || ${bool(`${m}.show_in_channel`)} end`,
    `case when ${m}.quoted_message_id is null then '' else ',"quoted_message_id":' || ${sql.quote(`${m}.quoted_message_id`)} end`,
    optionalTime(sql, 'deleted_at', `${m}.deleted_at`),
  ];
}

function messageText(sql: ExportSqlDialect, column: string, m: string, clearDeletedText: boolean): string {
  return clearDeletedText
    ? `case when ${m}.deleted_at is null then ${sql.quote(column)} else '""' end`
    : sql.quote(column);
}

/** messageLineV2(row, channel, clearDeletedText) of the messages row aliased `m`. */
export function messageLineV2Sql(
  sql: ExportSqlDialect,
  m: string,
  channel: Pick<ChannelRow, 'type' | 'id'>,
  clearDeletedText: boolean,
): string {
  return sql.concat([
    `'{"type":"message","data":{'`,
    customPrefix(`${m}.custom`),
    `'"id":'`,
    sql.quote(`${m}.id`),
    literal(
      `,"channel_type":${JSON.stringify(channel.type)},"channel_id":${JSON.stringify(channel.id)},"user":`,
    ),
    sql.quote(`${m}.user_id`),
    `',"text":'`,
    messageText(sql, `${m}.text`, m, clearDeletedText),
    `',"type":'`,
    `case when ${m}.deleted_at is null then ${sql.quote(`${m}.type`)} else '"deleted"' end`,
    `',"attachments":'`,
    `${m}.attachments`,
    `',"mentioned_users":'`,
    `${m}.mentioned_users`,
    `',"pinned":'`,
    bool(`${m}.pinned`),
    `',"silent":'`,
    bool(`${m}.silent`),
    `',"reply_count":'`,
    `${m}.reply_count`,
    ...createdUpdated(sql, m),
    ...messageTail(sql, m),
    literal('}}\n'),
  ]);
}

/** reactionLineV2(row) of the reactions row aliased `r`. */
export function reactionLineV2Sql(sql: ExportSqlDialect, r: string): string {
  return sql.concat([
    `'{"type":"reaction","data":{'`,
    customPrefix(`${r}.custom`),
    `'"message_id":'`,
    sql.quote(`${r}.message_id`),
    `',"type":'`,
    sql.quote(`${r}.type`),
    `',"user_id":'`,
    sql.quote(`${r}.user_id`),
    `',"score":'`,
    `${r}.score`,
    ...createdUpdated(sql, r),
    literal('}}\n'),
  ]);
}

/** A user's JSON by id expression: what `user(id)` gives in the v1 encoders. */
export type UserLookupSql = (id: string) => string;

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

/** reactionJson(row, user(row.user_id)) of the reactions row aliased `r`. */
function reactionJsonSql(sql: ExportSqlDialect, r: string, user: UserLookupSql): string {
  return sql.concat([
    `'{'`,
    customPrefix(`${r}.custom`),
    `'"message_id":'`,
    sql.quote(`${r}.message_id`),
    `',"user_id":'`,
    sql.quote(`${r}.user_id`),
    `',"user":'`,
    user(`${r}.user_id`),
    `',"type":'`,
    sql.quote(`${r}.type`),
    `',"score":'`,
    `${r}.score`,
    ...createdUpdated(sql, r),
    `'}'`,
  ]);
}

/** The ORDER BY of a message's reactions, newest first, as reactionsByMessage returns them. */
export const NEWEST_REACTIONS_FIRST = 'r.created_at desc, r.user_id, r.type';

/** `[...]` of reactionJson over the reactions rows aliased `r`, newest first; NULL when there are none. */
export function reactionsJsonSql(sql: ExportSqlDialect, user: UserLookupSql): string {
  return `'[' || ${sql.aggregate(reactionJsonSql(sql, 'r', user), ',', NEWEST_REACTIONS_FIRST)} || ']'`;
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
  const mentioned =
    `case when length(${m}.mentioned_users) > 2 then (select '[' || ` +
    `${sql.aggregate(user('j.value'), ',', 'j.key')} || ']' from ${sql.arrayElements(`${m}.mentioned_users`, 'j')}) ` +
    `else '[]' end`;
  return sql.concat([
    `'{'`,
    customPrefix(`${m}.custom`),
    `'"id":'`,
    sql.quote(`${m}.id`),
    `',"cid":'`,
    sql.quote(`${m}.cid`),
    `',"text":'`,
    messageText(sql, `${m}.text`, m, clearDeletedText),
    `',"html":'`,
    messageText(sql, `${m}.html`, m, clearDeletedText),
    `',"type":'`,
    `case when ${m}.deleted_at is null then ${sql.quote(`${m}.type`)} else '"deleted"' end`,
    `',"user":'`,
    author,
    `',"attachments":'`,
    `${m}.attachments`,
    `',"mentioned_users":'`,
    mentioned,
    `',"latest_reactions":'`,
    reactions,
    `',"own_reactions":[],"reaction_counts":'`,
    `${m}.reaction_counts`,
    `',"reaction_scores":'`,
    `${m}.reaction_scores`,
    `',"reply_count":'`,
    `${m}.reply_count`,
    `',"deleted_reply_count":0,"pinned":'`,
    bool(`${m}.pinned`),
    `',"silent":'`,
    bool(`${m}.silent`),
    `',"shadowed":false'`,
    ...createdUpdated(sql, m),
    ...messageTail(sql, m),
    `'}'`,
  ]);
}
