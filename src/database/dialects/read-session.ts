/**
 * The read session: how a long, CPU-heavy read (an export, which has the database encode its JSON)
 * gets connections of its own, and more than one core. Each dialect implements it in its own file.
 */
import type { CompiledQuery, Kysely } from 'kysely';
import type { Database } from '../database.types.js';

export interface ReadSessionOptions {
  /** Most queries `query` runs at once. */
  parallelism: number;
}

export interface ReadSession {
  /**
   * A connection of the session's own, for the small queries between the heavy ones. Its temporary
   * tables are the session's: `everywhere` creates them on every connection.
   */
  readonly db: Kysely<Database>;
  /** Most queries `query` runs at once. */
  readonly parallelism: number;
  /**
   * Queries worth keeping in flight: `parallelism` where the session runs them itself (SQLite), one
   * more on a server, whose connections then have the next query queued while the caller writes out
   * the result of the one before.
   */
  readonly inFlight: number;
  /** True on a read-only connection (a read replica): no temporary tables. */
  readonly readOnly: boolean;
  /**
   * Runs a read-only query on one of the session's connections, which start when first needed and
   * first replay every `everywhere` statement; resolves with its rows. BLOB or bytea values are
   * Buffers, BIGINT values numbers, as on `db`.
   */
  query<R>(query: CompiledQuery<R>): Promise<R[]>;
  /**
   * Runs a read-only query whose columns are all text (or NULL), like `query`, and resolves with its
   * rows as arrays of the columns' values in select order, each the bytes of its text (UTF-8), or null:
   * for large values written out as they are. PostgreSQL sends them as bytes, never decoded into
   * JavaScript strings (postgres-copy.ts); SQLite's text arrives as strings, BLOB values as bytes.
   */
  queryBytes(query: CompiledQuery): Promise<Array<Array<Buffer | null>>>;
  /** Runs a statement on every connection of the session, now and on any it starts later. */
  everywhere(query: CompiledQuery): Promise<void>;
  /**
   * For a read known to be long: starts, without waiting for them, the connections the session may
   * use where starting one takes long (SQLite's reader threads load the driver and open the file), so
   * they start while the work before its first heavy query is done. Others start when first needed.
   */
  startAll(): void;
}

/** queryBytes's answer from rows a driver decoded: each value as the bytes of its text, or null. */
export function rowsAsBytes(rows: ReadonlyArray<Record<string, unknown>>): Array<Array<Buffer | null>> {
  return rows.map((row) =>
    Object.values(row).map((value) =>
      value === null || value === undefined
        ? null
        : Buffer.isBuffer(value)
          ? value
          : Buffer.from(String(value), 'utf8'),
    ),
  );
}
