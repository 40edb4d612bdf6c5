import type { Kysely } from 'kysely';
import type { Database } from '../database.types.js';
import type { BulkWriter } from './bulk-writer.js';
import type { ReadSession, ReadSessionOptions } from './read-session.js';

export type DialectName = 'sqlite' | 'postgres';

/**
 * The only place where the two databases differ. Everything else goes through `db` with Kysely's
 * dialect-neutral query builder.
 */
export interface DatabaseDialect {
  readonly name: DialectName;
  readonly db: Kysely<Database>;
  /**
   * Runs `work` in a transaction that holds the write lock from its first statement: SQLite's
   * `BEGIN IMMEDIATE` (so two processes never both read "free" and both claim), PostgreSQL's ordinary
   * transaction (its claim query uses `FOR UPDATE SKIP LOCKED`).
   */
  writeTransaction<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T>;
  /**
   * writeTransaction with a bulk writer for large batches of rows (the import path), valid only until
   * `work` settles. SQLite runs it on the native handle the transaction holds; PostgreSQL on `trx`.
   */
  bulkWriteTransaction<T>(work: (trx: Kysely<Database>, writer: BulkWriter) => Promise<T>): Promise<T>;
  /**
   * Runs `work` in a read session (read-session.ts): connections of its own for a long read such as an
   * export, so it neither holds the shared ones nor evicts their caches, and queries that can run on
   * several cores at once. SQLite: a second handle on the file plus reader threads, each with a handle;
   * PostgreSQL: pooled connections held until `work` settles, without JIT. Everything it opened is
   * closed when `work` settles.
   */
  readSession<T>(options: ReadSessionOptions, work: (session: ReadSession) => Promise<T>): Promise<T>;
  /** `FOR UPDATE SKIP LOCKED` where row locks exist; nothing on SQLite, whose write lock covers the file. */
  readonly skipLockedSuffix: boolean;
  /** Column type of an auto-incrementing integer primary key, for migrations. */
  readonly serialType: 'serial' | 'integer';
  close(): Promise<void>;
}
