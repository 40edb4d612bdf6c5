import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import Cursor from 'pg-cursor';
import type { Database } from '../database.types.js';
import { driverErrorCode, type DatabaseDialect, type DatabaseErrorKind } from './dialect.js';
import { withPostgresReadSession } from './postgres-read-session.js';
import { withPostgresBulkTransaction } from './postgres-bulk-writer.js';
import { waitForReplica } from './postgres-replica.js';

const INT8_OID = 20;

/** PostgreSQL's SQLSTATE codes, by what they mean to a client. */
const ERROR_KINDS: Readonly<Record<string, DatabaseErrorKind>> = {
  '23505': 'conflict', // unique_violation
  '40001': 'busy', // serialization_failure
  '40P01': 'busy', // deadlock_detected
  '55P03': 'busy', // lock_not_available
  '53300': 'busy', // too_many_connections
  '57P03': 'busy', // cannot_connect_now (starting up or shutting down)
  '53100': 'storageFull', // disk_full
};

function classifyPostgresError(error: unknown): DatabaseErrorKind | undefined {
  const code = driverErrorCode(error);
  return code !== undefined && Object.hasOwn(ERROR_KINDS, code) ? ERROR_KINDS[code] : undefined;
}

/** A pool whose BIGINT columns come back as numbers: every stored value fits in 2^53. */
function createPool(connectionString: string, poolSize: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client that loses its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  return pool;
}

export interface PostgresOptions {
  /** Connections the process opens at most (each pool, when there are two). Default 10. */
  poolSize?: number;
  /** A read replica (CHATPORT_DATABASE_READ_URL): read sessions (exports) run there. */
  readUrl?: string;
}

/**
 * PostgreSQL through one pool, and a second pool for read sessions when a replica is given: exports
 * then read there, after waiting for it to catch up with the primary (postgres-replica.ts).
 */
export function createPostgresDialect(
  connectionString: string,
  { poolSize = 10, readUrl }: PostgresOptions = {},
): DatabaseDialect {
  const pool = createPool(connectionString, poolSize);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool, cursor: Cursor }) });
  const readPool = readUrl ? createPool(readUrl, poolSize) : pool;
  const readDb = readUrl
    ? new Kysely<Database>({ dialect: new PostgresDialect({ pool: readPool, cursor: Cursor }) })
    : db;
  return {
    name: 'postgres',
    db,
    rowLocks: true,
    serialType: 'serial',
    classifyError: classifyPostgresError,
    writeTransaction: (work) => db.transaction().execute(work),
    readSession: (options, work) =>
      readDb.connection().execute(async (own) => {
        if (readUrl) await waitForReplica(pool, own);
        return withPostgresReadSession(own, readPool, options, work);
      }),
    bulkWriteTransaction: (work) => withPostgresBulkTransaction(pool, work),
    close: async () => {
      await db.destroy();
      if (readDb !== db) await readDb.destroy();
    },
  };
}
