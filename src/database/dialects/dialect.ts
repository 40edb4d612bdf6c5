import type { Kysely } from 'kysely';
import type { Database } from '../database.types.js';
import type { BulkWriter } from './bulk-writer.js';
import type { ReadSession, ReadSessionOptions } from './read-session.js';

export type DialectName = 'sqlite' | 'postgres';

/**
 * What a database error means to a client, whichever the driver: `conflict`, a unique key is already
 * taken (two requests raced to create one id); `busy`, a lock or serialization failure that the same
 * request can retry at once; `storageFull`, no room left to write (a full disk), nothing was saved.
 */
export type DatabaseErrorKind = 'conflict' | 'busy' | 'storageFull';

/** The driver's error code (`SQLITE_FULL`, `23505`, ...), when the error carries one. */
export function driverErrorCode(error: unknown): string | undefined {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

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
  /**
   * Whether `SELECT ... FOR UPDATE` (and `SKIP LOCKED`) locks rows (PostgreSQL). False on SQLite, where
   * a write transaction already excludes every other writer, so the rows it reads cannot change under it.
   */
  readonly rowLocks: boolean;
  /**
   * A handle for writes of values derived from committed rows (a channel's last_message_at), whose
   * commits need not wait for the disk. PostgreSQL: connections of their own with
   * `synchronous_commit = off`: a commit is visible to every reader at once and reaches the disk
   * within about three `wal_writer_delay` (600 ms by default), so only a crash of the database
   * server in that window can lose it, and whatever derives the value again puts it right. SQLite:
   * `db` (a WAL commit with synchronous=NORMAL waits for no disk anyway).
   */
  readonly derivedWritesDb: Kysely<Database>;
  /**
   * Has a statement text, whose values all come as parameters, parsed and planned once per connection
   * and then reused (PostgreSQL's named prepared statements): for statements run very often whose
   * planning costs more than running them. Later runs of the same text anywhere take the prepared
   * path. SQLite: nothing to do, its driver keeps every statement prepared.
   */
  keepPrepared(sqlText: string): void;
  /** Tells what a driver's error means to a client, by its code; undefined for every other error. */
  classifyError(error: unknown): DatabaseErrorKind | undefined;
  /** Column type of an auto-incrementing integer primary key, for migrations. */
  readonly serialType: 'serial' | 'integer';
  close(): Promise<void>;
}
