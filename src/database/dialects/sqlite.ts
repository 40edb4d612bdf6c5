import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  SqliteDialect,
  type DatabaseConnection,
  type Driver,
  type SqliteStatement,
} from 'kysely';
import { ensurePrivateFile, restrictToOwner } from '../../lib/private-files.js';
import type { Database } from '../database.types.js';
import { driverErrorCode, type DatabaseDialect, type DatabaseErrorKind } from './dialect.js';
import { createSqliteBulkScope } from './sqlite-bulk-writer.js';
import { createSqliteCheckpointer } from './sqlite-checkpointer.js';
import { withSqliteReadSession } from './sqlite-read-session.js';
import { rowsAsBytes } from './read-session.js';

// Compiled once: every write transaction runs them.
const BEGIN_IMMEDIATE = CompiledQuery.raw('begin immediate');
const COMMIT = CompiledQuery.raw('commit');
const ROLLBACK = CompiledQuery.raw('rollback');

/** Prepared statements kept per handle: a query builder emits the same few hundred SQL texts. */
const STATEMENT_CACHE_SIZE = 500;

type RowValues = unknown[];
type Row = Record<string, unknown>;

/**
 * A builder of row objects from the values of a statement's result columns, compiled to one object
 * literal: better-sqlite3 sets a row's columns one by one through V8's API, which costs more than the
 * query itself on pages of wide rows, and leaves objects slower to read. Duplicate names keep the last
 * value, as better-sqlite3 does.
 */
function rowBuilder(names: string[]): (values: RowValues) => Row {
  const fields = names.map((name, index) => `${JSON.stringify(name)}: values[${index}]`);
  return new Function('values', `return { ${fields.join(', ')} };`) as (values: RowValues) => Row;
}

/**
 * The statement as Kysely's driver uses it; a reader returns rows as value arrays (raw mode) that
 * rowBuilder turns into objects. The builder follows the statement's columns should they change
 * (SQLite re-prepares a statement after a schema change, and `select *` then has other columns).
 */
function kyselyStatement(statement: SqliteDatabase.Statement): SqliteStatement {
  const names = statement.reader ? statement.columns().map((column) => column.name) : [];
  // `__proto__` in an object literal sets the prototype: such rows are left to better-sqlite3.
  if (!statement.reader || names.includes('__proto__')) return statement;
  statement.raw(true);
  let width = names.length;
  let build = rowBuilder(names);
  const buildFor = (values: RowValues) => {
    if (values.length !== width) {
      width = values.length;
      build = rowBuilder(statement.columns().map((column) => column.name));
    }
    return build(values);
  };
  return {
    reader: true,
    all: (parameters) => (statement.all(parameters) as RowValues[]).map(buildFor),
    run: (parameters) => statement.run(parameters),
    *iterate(parameters) {
      for (const values of statement.iterate(parameters) as Iterable<RowValues>) yield buildFor(values);
    },
  };
}

/**
 * Kysely's SQLite driver prepares every query anew; compiling the SQL is a large share of a small
 * query's cost. This wrapper hands it the statement prepared last time for the same text, unless that
 * one is still busy (an open iterator), in which case it prepares a fresh one.
 */
function withStatementCache(native: SqliteDatabase.Database): SqliteDatabase.Database {
  const statements = new Map<string, { native: SqliteDatabase.Statement; kysely: SqliteStatement }>();
  return new Proxy(native, {
    get(target, property) {
      if (property === 'prepare') {
        return (source: string) => {
          const cached = statements.get(source);
          if (cached && !cached.native.busy) return cached.kysely;
          const statement = target.prepare(source);
          const kysely = kyselyStatement(statement);
          if (statements.size >= STATEMENT_CACHE_SIZE) statements.clear();
          statements.set(source, { native: statement, kysely });
          return kysely;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * Creates the database file private to this user (0600, in new folders 0700) before SQLite opens it,
 * and narrows an existing file's and its companions' modes: SQLite creates its WAL, shared-memory and
 * journal files with the database file's mode, but never changes files that already exist.
 */
function prepareDatabaseFile(filename: string): void {
  fs.mkdirSync(path.dirname(filename), { recursive: true, mode: 0o700 });
  ensurePrivateFile(filename);
  for (const file of sqliteFilesOf(filename)) restrictToOwner(file);
}

/** The database file and the companions SQLite keeps beside it: WAL, shared memory, rollback journal. */
export function sqliteFilesOf(filename: string): string[] {
  return ['', '-wal', '-shm', '-journal'].map((suffix) => filename + suffix);
}

/** better-sqlite3's (extended) result codes, by what they mean to a client. */
function classifySqliteError(error: unknown): DatabaseErrorKind | undefined {
  const code = driverErrorCode(error);
  if (code === undefined) return undefined;
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') return 'conflict';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'busy';
  // A full disk: SQLite reports a failed write for want of space (ENOSPC) as SQLITE_FULL too.
  if (code === 'SQLITE_FULL') return 'storageFull';
  return undefined;
}

/**
 * After some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM) SQLite may already have rolled the
 * transaction back itself; Kysely's `rollback` would then fail with "no transaction is active" and
 * that error would replace the one that tells what happened. This driver rolls back only what is open.
 */
class RollbackWhatIsOpenDialect extends SqliteDialect {
  constructor(
    config: ConstructorParameters<typeof SqliteDialect>[0],
    private readonly native: SqliteDatabase.Database,
  ) {
    super(config);
  }

  override createDriver(): Driver {
    const driver = super.createDriver();
    const rollback = driver.rollbackTransaction.bind(driver);
    driver.rollbackTransaction = async (connection: DatabaseConnection) => {
      if (this.native.inTransaction) await rollback(connection);
    };
    return driver;
  }
}

/** Opens (creating if needed) the SQLite file in WAL mode, shared safely by a server and worker processes. */
export function createSqliteDialect(filename: string): DatabaseDialect {
  if (filename !== ':memory:') prepareDatabaseFile(filename);
  const native = new SqliteDatabase(filename);
  native.pragma('journal_mode = WAL');
  // NORMAL in WAL mode is durable across application crashes; only an OS crash can lose the last commits.
  native.pragma('synchronous = NORMAL');
  native.pragma('busy_timeout = 10000');
  native.pragma('cache_size = -65536');
  native.pragma('temp_store = MEMORY');
  const checkpointer = filename === ':memory:' ? undefined : createSqliteCheckpointer(native, filename);
  const db = new Kysely<Database>({
    dialect: new RollbackWhatIsOpenDialect({ database: withStatementCache(native) }, native),
  });
  const bulkScope = createSqliteBulkScope(native);
  const dialect: DatabaseDialect = {
    name: 'sqlite',
    db,
    rowLocks: false,
    derivedWritesDb: db,
    serialType: 'integer',
    classifyError: classifySqliteError,
    keepPrepared: () => {},
    async writeTransaction(work) {
      return db.connection().execute(async (connection) => {
        await connection.executeQuery(BEGIN_IMMEDIATE);
        try {
          const result = await work(connection);
          await connection.executeQuery(COMMIT);
          checkpointer?.committed();
          return result;
        } catch (error) {
          if (native.inTransaction) await connection.executeQuery(ROLLBACK);
          throw error;
        }
      });
    },
    readSession(options, work) {
      // An in-memory database has no second handle: the session is the shared one, a query at a time.
      if (filename === ':memory:') {
        return work({
          db,
          parallelism: 1,
          inFlight: 1,
          readOnly: false,
          query: async (query) => (await db.executeQuery(query)).rows,
          queryBytes: async (query) =>
            rowsAsBytes((await db.executeQuery(query)).rows as Array<Record<string, unknown>>),
          everywhere: async (query) => void (await db.executeQuery(query)),
          startAll: () => undefined,
        });
      }
      return withSqliteReadSession(filename, options, work);
    },
    // The bulk writer runs on `native` while this transaction holds it: see sqlite-bulk-writer.ts.
    bulkWriteTransaction: (work) => dialect.writeTransaction((trx) => bulkScope(trx, work)),
    close: async () => {
      await checkpointer?.close();
      await db.destroy();
    },
  };
  return dialect;
}
