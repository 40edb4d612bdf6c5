/**
 * Conditions on one field of a JSON text column (custom data), as each database reads JSON: SQLite's
 * `json_extract` / `json_type`, PostgreSQL's `jsonb` operators. A value matches only a stored value of
 * the same JSON type (`"1"` is not `1`), on both databases alike. Keys are bound as values, never
 * spliced into the SQL text.
 */
import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';
import type { DialectName } from './dialect.js';

export type JsonScalar = string | number | boolean;
export type JsonComparison = '=' | '<>' | '>' | '>=' | '<' | '<=';

export interface JsonFields {
  /** The field equals `value` (same JSON type and value). */
  equals(column: Expression<unknown>, key: string, value: JsonScalar): RawBuilder<SqlBool>;
  /** The field is a number (or string, after `value`'s type) that compares so with `value`. */
  compare(
    column: Expression<unknown>,
    key: string,
    comparison: JsonComparison,
    value: number | string,
  ): RawBuilder<SqlBool>;
  /** The field is present (null counts as present). */
  exists(column: Expression<unknown>, key: string): RawBuilder<SqlBool>;
  /** The field as text when it is a string, else NULL. */
  text(column: Expression<unknown>, key: string): RawBuilder<string | null>;
}

const sqliteTypes = (value: JsonScalar) =>
  typeof value === 'string'
    ? sql`('text')`
    : typeof value === 'number'
      ? sql`('integer', 'real')`
      : value
        ? sql`('true')`
        : sql`('false')`;

/** SQLite: a key's path is `$."key"`, with `"` doubled inside it. */
const path = (key: string) => `$."${key.replaceAll('"', '""')}"`;

const sqlite: JsonFields = {
  equals(column, key, value) {
    // coalesce: an absent field is not equal (false, not NULL), so that its negation holds.
    const typed = sql<SqlBool>`coalesce(json_type(${column}, ${path(key)}) in ${sqliteTypes(value)}, 0)`;
    if (typeof value === 'boolean') return typed;
    return sql<SqlBool>`(${typed} and json_extract(${column}, ${path(key)}) = ${value})`;
  },
  compare(column, key, comparison, value) {
    return sql<SqlBool>`(json_type(${column}, ${path(key)}) in ${sqliteTypes(value)} and json_extract(${column}, ${path(key)}) ${sql.raw(comparison)} ${value})`;
  },
  exists(column, key) {
    return sql<SqlBool>`(json_type(${column}, ${path(key)}) is not null)`;
  },
  text(column, key) {
    return sql<
      string | null
    >`(case when json_type(${column}, ${path(key)}) = 'text' then json_extract(${column}, ${path(key)}) end)`;
  },
};

const postgres: JsonFields = {
  equals(column, key, value) {
    return sql<SqlBool>`coalesce((cast(${column} as jsonb) -> cast(${key} as text)) = cast(${JSON.stringify(value)} as jsonb), false)`;
  },
  compare(column, key, comparison, value) {
    const type = typeof value === 'number' ? 'number' : 'string';
    return sql<SqlBool>`(jsonb_typeof(cast(${column} as jsonb) -> cast(${key} as text)) = ${type} and (cast(${column} as jsonb) -> cast(${key} as text)) ${sql.raw(comparison)} cast(${JSON.stringify(value)} as jsonb))`;
  },
  exists(column, key) {
    return sql<SqlBool>`((cast(${column} as jsonb) -> cast(${key} as text)) is not null)`;
  },
  text(column, key) {
    return sql<
      string | null
    >`(case when jsonb_typeof(cast(${column} as jsonb) -> cast(${key} as text)) = 'string' then cast(${column} as jsonb) ->> cast(${key} as text) end)`;
  },
};

export const jsonFields: Record<DialectName, JsonFields> = { sqlite, postgres };
