/**
 * The SQL of an export's pages, beside the writer that runs it: v1's page of messages with their
 * authors, mentions and reactions (and the table of users it embeds), v2's lines of reactions.
 */
import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { ReadSession } from '../../database/dialects/read-session.js';
import { chunk } from '../../lib/ids.js';
import { messagesFrom, messagesIn, type MessageScope, type PageRange } from './channel-export.source.js';
import type { ExportSqlDialect, PageQuery } from './export-sql.dialects.js';
import {
  hasReactionsSql,
  joinedUserSql,
  messageJsonV1Sql,
  messageReactionsSql,
  reactionLineV2Sql,
  userJsonSql,
  userLookupSql,
} from './export-sql.js';

/**
 * A relation with no user, for sessions that cannot create tables (a read replica): every user is
 * then encoded from the users table, once per mention.
 */
export const NO_USERS = '(select cast(null as text) as id, cast(null as text) as json where 1 = 0)';

/**
 * The serialised users a v1 export embeds, in a temporary table on each of the session's connections,
 * so each user is encoded once rather than once per message; the SQL falls back on the users table for
 * any other. Answers a relation for the export's SQL: the table's name, or NO_USERS.
 */
export async function createUserTable(session: ReadSession): Promise<string> {
  if (session.readOnly) return NO_USERS;
  const name = `chatport_export_users_${crypto.randomBytes(6).toString('hex')}`;
  await session.everywhere(
    sql`create temporary table ${sql.table(name)} (id text primary key, json text not null)`.compile(
      session.db,
    ),
  );
  return name;
}

export async function fillUserTable(
  session: ReadSession,
  exportSql: ExportSqlDialect,
  table: string,
  appId: number,
  ids: Iterable<string>,
): Promise<void> {
  if (table === NO_USERS) return;
  for (const batch of chunk([...new Set(ids)], 500)) {
    await session.everywhere(
      sql`insert into ${sql.table(table)} (id, json)
        select u.id, ${sql.raw(userJsonSql(exportSql, 'u'))} from users u
        where u.app_id = ${appId} and u.id in (${sql.join(batch)})
        on conflict (id) do nothing`.compile(session.db),
    );
  }
}

/**
 * The query of a v1 page: its messages with their authors joined from the export's user table (one
 * join a page, not a lookup a message), their reactions, and `summed` counting those. Reactions are
 * read by subqueries only for messages that hold any: a LATERAL join, reading each message's reactions
 * once for both, cost PostgreSQL more, as it set up its aggregate for every message of the page.
 */
export function v1PageQuery(
  exportSql: ExportSqlDialect,
  userTable: string,
  clearDeletedText: boolean,
): (scope: MessageScope, range: PageRange) => PageQuery {
  const user = userLookupSql(exportSql, userTable, 'm.app_id');
  const author = joinedUserSql(exportSql, 'author', 'm.user_id', 'm.app_id');
  const withAuthor = (scope: MessageScope) =>
    sql`from ${messagesFrom(scope)} left join ${sql.raw(userTable)} author on author.id = m.user_id`;
  const encoded = messageJsonV1Sql(
    exportSql,
    'm',
    { user, author, reactions: messageReactionsSql(exportSql, 'm', user) },
    clearDeletedText,
  );
  return (scope, range) => ({
    orderBy: 'm.created_at, m.id',
    separator: ',',
    encoded,
    source: sql`${withAuthor(scope)} where ${messagesIn(scope, range)}`,
    summed:
      `case when ${hasReactionsSql('m')} then ` +
      '(select count(*) from reactions r where r.app_id = m.app_id and r.message_id = m.id) else 0 end',
  });
}

/**
 * The v2 lines of the reactions on the messages row aliased `m`, oldest first (the reverse of v1's
 * newest-first order), from a subquery per message: a join lets PostgreSQL's planner scan every
 * reaction of the app for each page.
 */
export function reactionLinesSql(exportSql: ExportSqlDialect): string {
  return (
    `(select ${exportSql.aggregate(reactionLineV2Sql(exportSql, 'r'), '', 'r.created_at, r.user_id desc, r.type desc')} ` +
    `from reactions r where r.app_id = m.app_id and r.message_id = m.id)`
  );
}
