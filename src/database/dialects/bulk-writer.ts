/**
 * The bulk writer: the import path's way around the query builder. Kysely compiles every query it
 * runs, which costs more than the insert itself when rows are written one at a time; the writer binds
 * rows straight into one cached statement (SQLite) or one statement per few thousand rows (PostgreSQL).
 * Each dialect implements it in its own file; this file holds the contract and the pure planning.
 */
import type { Selectable } from 'kysely';
import type { Database } from '../database.types.js';

/** SQL type of a written column. PostgreSQL casts its per-column arrays to it; SQLite ignores it. */
export type BulkColumnType = 'text' | 'bigint' | 'integer';

export type TableName = keyof Database;

/** The column names of a table. */
export type ColumnOf<T extends TableName> = keyof Selectable<Database[T]> & string;

/** Rows for one table, each naming the same columns (the keys of `columns`, from which C is inferred). */
export interface BulkRows<T extends TableName, C extends ColumnOf<T>> {
  table: T;
  /** The columns written, each with its SQL type, in the order they are bound. */
  columns: Readonly<Record<C, BulkColumnType>>;
  /** The primary key: the conflict target of an upsert, the row filter of an update. */
  key: ReadonlyArray<NoInfer<C>>;
  rows: ReadonlyArray<Readonly<Pick<Selectable<Database[T]>, NoInfer<C>>>>;
}

export interface BulkUpsert<T extends TableName, C extends ColumnOf<T>> extends BulkRows<T, C> {
  /** Columns written when a row is new but left as stored when its key exists (counters). Default none. */
  keepOnConflict?: ReadonlyArray<NoInfer<C>>;
}

export interface BulkWriter {
  /**
   * Inserts the rows; a row whose key exists replaces the stored row's columns, except the key and
   * `keepOnConflict`. Columns not named keep their defaults (new rows) or stored values (existing ones).
   * Keys must be unique within one call: PostgreSQL refuses to change one row twice in a statement.
   */
  upsert<T extends TableName, C extends ColumnOf<T>>(request: BulkUpsert<T, C>): Promise<void>;
  /**
   * Writes rows expected to be new the cheapest way the database has (PostgreSQL: COPY straight into
   * the table), ending as `upsert` would. Resolves false when a key turned out stored: then the stored
   * rows were left as they were (PostgreSQL wrote none of the call's rows, SQLite the new ones), the
   * transaction goes on, and the caller upserts the rows instead.
   */
  insertNew<T extends TableName, C extends ColumnOf<T>>(request: BulkRows<T, C>): Promise<boolean>;
  /** Sets the non-key columns of the rows with these keys; keys without a stored row are skipped. */
  update<T extends TableName, C extends ColumnOf<T>>(request: BulkRows<T, C>): Promise<void>;
}

export interface BulkPlan {
  /** Every written column, in binding order. */
  columns: string[];
  types: BulkColumnType[];
  key: string[];
  /** The columns an upsert replaces on conflict, or an update sets: not key, not kept. */
  assigned: string[];
}

export function planBulkWrite<T extends TableName, C extends ColumnOf<T>>(
  request: BulkUpsert<T, C>,
): BulkPlan {
  const columns = Object.keys(request.columns) as C[];
  const key: string[] = [...request.key];
  const kept = new Set<string>(request.keepOnConflict ?? []);
  for (const column of key) {
    if (!columns.includes(column as C)) throw new Error(`bulk write: key column ${column} is not written`);
  }
  return {
    columns,
    types: columns.map((column) => request.columns[column]),
    key,
    assigned: columns.filter((column) => !key.includes(column) && !kept.has(column)),
  };
}

/** A column's values across rows, for the `unnest` of a PostgreSQL bulk statement. */
export function columnValues(rows: ReadonlyArray<object>, column: string): unknown[] {
  const values = new Array<unknown>(rows.length);
  for (let i = 0; i < rows.length; i++) values[i] = (rows[i] as Record<string, unknown>)[column];
  return values;
}
