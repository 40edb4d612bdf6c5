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
  /** Most queries `query` runs at once: what to keep in flight. */
  readonly parallelism: number;
  /** True on a read-only connection (a read replica): no temporary tables. */
  readonly readOnly: boolean;
  /**
   * Runs a read-only query on one of the session's connections, which start when first needed and
   * first replay every `everywhere` statement; resolves with its rows. BLOB or bytea values are
   * Buffers, BIGINT values numbers, as on `db`.
   */
  query<R>(query: CompiledQuery<R>): Promise<R[]>;
  /** Runs a statement on every connection of the session, now and on any it starts later. */
  everywhere(query: CompiledQuery): Promise<void>;
}
