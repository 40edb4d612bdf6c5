import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import Cursor from 'pg-cursor';
import type { Database } from '../database.types.js';
import { driverErrorCode, type DatabaseDialect, type DatabaseErrorKind } from './dialect.js';
import { withPostgresReadSession } from './postgres-read-session.js';
import { withPostgresBulkTransaction } from './postgres-bulk-writer.js';
import { waitForReplica } from './postgres-replica.js';

const INT8_OID = 20;

/** Connections of the pool behind derivedWritesDb. */
const DERIVED_WRITES_POOL_SIZE = 2;

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

/**
 * Statement texts run as named prepared statements (DatabaseDialect.keepPrepared), each with its name.
 * Kysely hands the driver a text and its values; a connection sends a text found here by its name,
 * and the driver parses it on that connection the first time only.
 */
type PreparedNames = Map<string, string>;

function runPreparedByName(client: pg.PoolClient, prepared: PreparedNames): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((text: unknown, ...rest: unknown[]) => {
    const name = typeof text === 'string' ? prepared.get(text) : undefined;
    return name !== undefined && Array.isArray(rest[0])
      ? query({ name, text, values: rest[0] }, ...rest.slice(1))
      : query(text, ...rest);
  }) as typeof client.query;
}

/**
 * A pool whose BIGINT columns come back as numbers: every stored value fits in 2^53. `setUp`, when
 * given, runs on every new connection before anything else does (the driver queues it first).
 */
function createPool(
  connectionString: string,
  poolSize: number,
  prepared: PreparedNames,
  setUp?: string,
): pg.Pool {
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
  pool.on('connect', (client) => runPreparedByName(client, prepared));
  // Should it fail, the connection keeps the server's settings: slower, perhaps, never less safe.
  if (setUp) pool.on('connect', (client) => void client.query(setUp).catch(() => {}));
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
 * then read there, after waiting for it to catch up with the primary (postgres-replica.ts). Derived
 * writes (derivedWritesDb) have a pool of DERIVED_WRITES_POOL_SIZE connections of their own.
 */
export function createPostgresDialect(
  connectionString: string,
  { poolSize = 10, readUrl }: PostgresOptions = {},
): DatabaseDialect {
  const prepared: PreparedNames = new Map();
  const pool = createPool(connectionString, poolSize, prepared);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool, cursor: Cursor }) });
  // Derived values are written by short single statements: a few connections serve every channel.
  const derivedWritesDb = new Kysely<Database>({
    dialect: new PostgresDialect({
      pool: createPool(connectionString, DERIVED_WRITES_POOL_SIZE, prepared, 'set synchronous_commit = off'),
    }),
  });
  const readPool = readUrl ? createPool(readUrl, poolSize, prepared) : pool;
  const readDb = readUrl
    ? new Kysely<Database>({ dialect: new PostgresDialect({ pool: readPool, cursor: Cursor }) })
    : db;
  return {
    name: 'postgres',
    db,
    rowLocks: true,
    derivedWritesDb,
    serialType: 'serial',
    classifyError: classifyPostgresError,
    keepPrepared: (text) => {
      if (!prepared.has(text)) prepared.set(text, `chatport_${prepared.size + 1}`);
    },
    writeTransaction: (work) => db.transaction().execute(work),
    readSession: (options, work) =>
      readDb.connection().execute(async (own) => {
        if (readUrl) await waitForReplica(pool, own);
        return withPostgresReadSession(own, readPool, options, work);
      }),
    bulkWriteTransaction: (work) => withPostgresBulkTransaction(pool, work),
    close: async () => {
      await db.destroy();
      await derivedWritesDb.destroy();
      if (readDb !== db) await readDb.destroy();
    },
  };
}
