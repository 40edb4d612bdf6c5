/**
 * The few SQL functions the export encodings need, per database: the only place the two differ. Each
 * must give exactly what its JavaScript counterpart gives (JSON.stringify, formatMicros).
 */
import { sql, type RawBuilder } from 'kysely';
import type { DialectName } from '../../database/database.js';

/**
 * A page of entities (messages, reactions) as the database encoded it: one row of text columns, which
 * a read session's queryBytes reads as bytes.
 */
export interface EncodedPage {
  /** How many entities the page holds (decimal text, or a number). */
  entities: number | string;
  /**
   * Their encodings, in order, joined into one value: the page's part of the file, as bytes (SQLite,
   * and PostgreSQL through queryBytes) or text (a page read on the session's own connection). Null
   * when empty.
   */
  body: Buffer | string | null;
  /** The sum of the page query's `summed` expression over its entities, when it has one. */
  summed: number | string | null;
}

export interface PageQuery {
  /** The SQL encoding of one entity (text). */
  encoded: string;
  /** `from ... where ...` of the entities. */
  source: RawBuilder<unknown>;
  /** Their order in the file. */
  orderBy: string;
  /** Between two encodings. */
  separator: string;
  /** A number per entity to add up over the page (v1: each message's reactions). */
  summed?: string;
}

/**
 * The change marks of an incremental export (migrations/0008-change-tracking.ts): the high-water mark
 * of the export it continues (`after`, none for everything) and its own (`through`, none for no bound).
 */
export interface ChangeWindow {
  after: string | null;
  through: string | null;
}

/** How a database finds what changed between two marks (see docs/reliability.md, incremental exports). */
export interface ChangeMarkSql {
  /** The statement taking a high-water mark now: `{mark}`, every change at or before it committed. */
  take(): RawBuilder<{ mark: string | number }>;
  /** Whether a mark read from a cursor is one this database can use (never a query error). */
  isMark(text: string): boolean;
  /** The condition on a `change_mark` column expression: changed after `after`, at or before `through`. */
  changedIn(column: string, window: ChangeWindow): RawBuilder<unknown>;
  /** `<table> <alias>` in a FROM clause, read by its `<table>_changes` index. */
  byChanges(table: string, alias: string): string;
}

export interface ExportSqlDialect {
  readonly changes: ChangeMarkSql;
  /** The JSON string of a text expression, escaped exactly as JSON.stringify escapes it. */
  quote(text: string): string;
  /** The text expressions one after the other (none of them NULL). */
  concat(parts: string[]): string;
  /** formatMicros of a BIGINT microseconds expression (`2021-02-17T08:17:49.745857Z`); NULL stays NULL. */
  time(micros: string): string;
  /** The rows' text values joined by `separator` (a plain string) in `orderBy` order; NULL when none. */
  aggregate(text: string, separator: string, orderBy: string): string;
  /** A FROM item: the elements of a JSON array of strings, as `<alias>.value`, in `<alias>.key` order. */
  arrayElements(json: string, alias: string): string;
  /**
   * One query giving a whole page as one value: one allocation a page, not one per entity, which keeps
   * the memory an export holds flat.
   */
  page(query: PageQuery): RawBuilder<EncodedPage>;
}

const MICROS = 1_000_000;

const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

const always = sql`1 = 1`;

/** SQLite marks: change epochs. Writers stamp the epoch; taking a mark closes it (one writer at a time). */
const sqliteChanges: ChangeMarkSql = {
  take: () =>
    sql<{ mark: number }>`update change_epoch set value = value + 1 where id = 1 returning value - 1 as mark`,
  isMark: (text) => /^(0|[1-9][0-9]{0,14})$/.test(text),
  changedIn(column, { after, through }) {
    const conditions = [
      ...(after === null ? [] : [sql`${sql.raw(column)} > ${Number(after)}`]),
      ...(through === null ? [] : [sql`${sql.raw(column)} <= ${Number(through)}`]),
    ];
    return conditions.length === 0 ? always : sql.join(conditions, sql` and `);
  },
  // Otherwise the planner may prefer the index that gives the file's order and filter the whole channel.
  byChanges: (table, alias) => `${table} ${alias} indexed by ${table}_changes`,
};

const MAX_XID = 2n ** 63n - 1n;

/** `xmin:xmax:xip,...` as pg_snapshot reads it: 1 <= xmin <= xip... < xmax, ascending. */
function isSnapshot(text: string): boolean {
  const match = /^([0-9]{1,19}):([0-9]{1,19}):((?:[0-9]{1,19})(?:,[0-9]{1,19})*)?$/.exec(text);
  if (!match) return false;
  const xmin = BigInt(match[1]!);
  const xmax = BigInt(match[2]!);
  if (xmin < 1n || xmin > xmax || xmax > MAX_XID) return false;
  let previous = xmin - 1n;
  for (const part of match[3]?.split(',') ?? []) {
    const xid = BigInt(part);
    if (xid <= previous || xid >= xmax) return false;
    previous = xid;
  }
  return true;
}

/**
 * PostgreSQL marks: snapshots. A row's mark is its writer's transaction id; it changed in a window if
 * its writer had committed in the `through` snapshot and not in the `after` one: the index finds the
 * ids `after` did not see (at or above its xmax, or in its in-progress list), visibility in `through`
 * drops those not committed yet.
 */
/**
 * The ids a snapshot did not see, as values the planner reads (a subquery's array would be estimated
 * blind, and made it prefer reading the whole channel).
 */
function notSeenBy(column: RawBuilder<unknown>, snapshot: string): RawBuilder<unknown> {
  const [, xmax, xip] = snapshot.split(':');
  const inProgress = xip ? xip.split(',') : [];
  const begunSince = sql`${column} >= ${xmax}::xid8`;
  if (inProgress.length === 0) return begunSince;
  return sql`(${begunSince} or ${column} = any(${inProgress}::xid8[]))`;
}

const postgresChanges: ChangeMarkSql = {
  take: () => sql<{ mark: string }>`select pg_current_snapshot()::text as mark`,
  isMark: isSnapshot,
  changedIn(column, { after, through }) {
    const c = sql.raw(column);
    const conditions = [
      ...(after === null
        ? []
        : [
            // Exactly the transactions `after` does not see: those in progress then, or begun since.
            // Two index ranges, however long a transaction in progress then stays open.
            notSeenBy(c, after),
          ]),
      ...(through === null
        ? []
        : [
            sql`${c} < pg_snapshot_xmax(${through}::pg_snapshot)`,
            sql`pg_visible_in_snapshot(${c}, ${through}::pg_snapshot)`,
          ]),
    ];
    return conditions.length === 0 ? always : sql.join(conditions, sql` and `);
  },
  byChanges: (table, alias) => `${table} ${alias}`,
};

const sqlite: ExportSqlDialect = {
  changes: sqliteChanges,
  // One allocation for the whole value: each `||` would copy everything joined so far again (a v1
  // message is a third faster so).
  concat: (parts) => `concat(${parts.join(', ')})`,
  quote: (text) => `json_quote(${text})`,
  time(micros) {
    // Floor division and a non-negative remainder, so times before 1970 format as formatMicros does;
    // datetime() with the T put in is a third cheaper than strftime() with its format string.
    const fraction = `((${micros} % ${MICROS} + ${MICROS}) % ${MICROS})`;
    return (
      `replace(datetime((${micros} - ${fraction}) / ${MICROS}, 'unixepoch'), ' ', 'T') || '.' || ` +
      `substr(${fraction} + ${MICROS}, 2) || 'Z'`
    );
  },
  aggregate: (text, separator, orderBy) => `group_concat(${text}, ${literal(separator)} order by ${orderBy})`,
  arrayElements: (json, alias) => `json_each(${json}) as ${alias}`,
  // An ORDER BY inside group_concat makes SQLite copy every encoding into a sorter first (twice the
  // time of a v1 page). The subquery's ORDER BY is followed by the index, for free, and SQLite keeps a
  // FROM subquery's order for an outer aggregate other than count, min and max (select.c: neither
  // the flattener nor the omit-ORDER-BY optimisation applies); test/exports checks the order.
  page: ({ encoded, source, orderBy, separator, summed }) => sql<EncodedPage>`
    select count(*) as entities, cast(group_concat(page.encoded, ${sql.raw(literal(separator))}) as blob) as body,
      ${sql.raw(summed ? 'sum(page.summed)' : 'null')} as summed
    from (select ${sql.raw(encoded)} as encoded${sql.raw(summed ? `, ${summed} as summed` : '')}
      ${source} order by ${sql.raw(orderBy)}) as page`,
};

/** 0001-01-01T00:00:00Z: PostgreSQL calls the year before it 1 BC, where formatMicros says 0000. */
const FIRST_YEAR_ONE_MICROS = -62_135_596_800_000_000;

const postgres: ExportSqlDialect = {
  changes: postgresChanges,
  concat: (parts) => `concat(${parts.join(', ')})`,
  quote: (text) => `to_json(${text}::text)::text`,
  time(micros) {
    const formatted =
      `to_char(timestamp '1970-01-01' + ${micros} * interval '1 microsecond', ` +
      `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
    return `case when ${micros} >= ${FIRST_YEAR_ONE_MICROS} then ${formatted} else '0000' || substr(${formatted}, 5) end`;
  },
  aggregate: (text, separator, orderBy) => `string_agg(${text}, ${literal(separator)} order by ${orderBy})`,
  arrayElements: (json, alias) =>
    `jsonb_array_elements_text(${json}::jsonb) with ordinality as ${alias}(value, key)`,
  page: ({ encoded, source, orderBy, separator, summed }) => sql<EncodedPage>`
    select count(*)::text as entities,
      string_agg(${sql.raw(encoded)}, ${sql.raw(literal(separator))} order by ${sql.raw(orderBy)}) as body,
      ${sql.raw(summed ? `sum(${summed})::bigint::text` : 'null::text')} as summed
    ${source}`,
};

/** The export SQL of each database, by dialect name. */
export const exportSqlDialects: Record<DialectName, ExportSqlDialect> = { sqlite, postgres };
