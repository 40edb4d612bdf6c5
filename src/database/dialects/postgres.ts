import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import Cursor from 'pg-cursor';
import type { Database } from '../database.types.js';
import type { DatabaseDialect } from './dialect.js';
import { withPostgresReadSession } from './postgres-read-session.js';
import { withPostgresBulkWriter } from './postgres-bulk-writer.js';

const INT8_OID = 20;

/** A PostgreSQL pool whose BIGINT columns come back as numbers: every stored value fits in 2^53. */
export function createPostgresDialect(connectionString: string, poolSize = 10): DatabaseDialect {
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
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool, cursor: Cursor }) });
  return {
    name: 'postgres',
    db,
    skipLockedSuffix: true,
    serialType: 'serial',
    writeTransaction: (work) => db.transaction().execute(work),
    readSession: (options, work) =>
      db.connection().execute((own) => withPostgresReadSession(own, pool, options, work)),
    bulkWriteTransaction: (work) => db.transaction().execute((trx) => withPostgresBulkWriter(trx, work)),
    close: () => db.destroy(),
  };
}
