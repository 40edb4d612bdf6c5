/**
 * SQLite's bulk writer: upserts bind ROWS_PER_STATEMENT rows to one multi-row statement (the rest of a
 * call one row at a time), updates one row a statement; statements are prepared once per table, column
 * set and row count, and cached for the life of the connection.
 *
 * Why this can share Kysely's connection: Kysely's SqliteDialect wraps this same better-sqlite3 handle
 * and lends it out to one user at a time behind a mutex. The writer is only handed out inside the
 * dialect's write transaction, which holds that mutex (and SQLite's write lock, `BEGIN IMMEDIATE`) from
 * start to commit; so no other query of this process can run on the handle between the writer's
 * statements, and every row it writes commits or rolls back with the transaction's Kysely queries.
 * better-sqlite3 is synchronous: each call runs to completion before control returns to the loop.
 */
import type SqliteDatabase from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { Database } from '../database.types.js';
import { planBulkWrite, type BulkPlan, type BulkWriter } from './bulk-writer.js';

type Statement = SqliteDatabase.Statement<unknown[]>;

/**
 * Rows an upsert statement carries: each run of a statement has a fixed cost of a few microseconds,
 * which many rows share. 100 rows of the widest table (21 columns) are 2,100 parameters, far below
 * SQLite's limit of 32,766. Measured on the 100,000 message and 40,000 reaction rows of the benchmark's
 * import, in one transaction: one row a statement 830 ms, 100 rows 690-830 ms, 400 rows 770 ms.
 */
export const ROWS_PER_STATEMENT = 100;

/** Names come from chatport's own table specs, never from input; quoted all the same. */
function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function upsertSql(table: string, plan: BulkPlan, rows: number): string {
  const columns = plan.columns.map(quote).join(', ');
  const tuple = `(${plan.columns.map(() => '?').join(', ')})`;
  const placeholders = Array.from({ length: rows }, () => tuple).join(', ');
  const onConflict =
    plan.assigned.length === 0
      ? 'do nothing'
      : `do update set ${plan.assigned.map((c) => `${quote(c)} = excluded.${quote(c)}`).join(', ')}`;
  return (
    `insert into ${quote(table)} (${columns}) values ${placeholders} ` +
    `on conflict (${plan.key.map(quote).join(', ')}) ${onConflict}`
  );
}

function updateSql(table: string, plan: BulkPlan): string {
  return (
    `update ${quote(table)} set ${plan.assigned.map((c) => `${quote(c)} = ?`).join(', ')} ` +
    `where ${plan.key.map((c) => `${quote(c)} = ?`).join(' and ')}`
  );
}

/**
 * Runs `statement` once per `perStatement` rows from `start`, binding their values in `order`, row after
 * row; returns where it stopped (the rows left are fewer than `perStatement`) and the rows the runs
 * changed (triggers' writes not counted). Arguments bind faster than one array.
 */
function runRows(
  statement: Statement,
  order: readonly string[],
  rows: ReadonlyArray<object>,
  perStatement = 1,
  start = 0,
): { next: number; changes: number } {
  const width = order.length;
  const values = new Array<unknown>(width * perStatement);
  let next = start;
  let changes = 0;
  for (; next + perStatement <= rows.length; next += perStatement) {
    let v = 0;
    for (let r = next; r < next + perStatement; r++) {
      const record = rows[r] as Record<string, unknown>;
      for (let i = 0; i < width; i++) values[v++] = record[order[i]!];
    }
    changes += statement.run(...values).changes;
  }
  return { next, changes };
}

export type SqliteBulkScope = <T>(
  trx: Kysely<Database>,
  work: (trx: Kysely<Database>, writer: BulkWriter) => Promise<T>,
) => Promise<T>;

/**
 * Returns the function a write transaction calls to hand `work` a writer on `native`; the writer stops
 * working once `work` settles, so it can never write outside the transaction that lent it.
 */
export function createSqliteBulkScope(native: SqliteDatabase.Database): SqliteBulkScope {
  const statements = new Map<string, Statement>();
  const prepare = (text: string): Statement => {
    let statement = statements.get(text);
    if (!statement) {
      statement = native.prepare<unknown[]>(text);
      statements.set(text, statement);
    }
    return statement;
  };

  return async (trx, work) => {
    let open = true;
    const assertOpen = () => {
      if (!open || !native.inTransaction) {
        throw new Error('the bulk writer can only be used inside the write transaction that lent it');
      }
    };
    /** Writes the rows ROWS_PER_STATEMENT at a time, the rest one by one; returns the rows changed. */
    const insertRows = (table: string, plan: BulkPlan, rows: ReadonlyArray<object>): number => {
      const many =
        rows.length >= ROWS_PER_STATEMENT
          ? runRows(
              prepare(upsertSql(table, plan, ROWS_PER_STATEMENT)),
              plan.columns,
              rows,
              ROWS_PER_STATEMENT,
            )
          : { next: 0, changes: 0 };
      return (
        many.changes + runRows(prepare(upsertSql(table, plan, 1)), plan.columns, rows, 1, many.next).changes
      );
    };
    const writer: BulkWriter = {
      async upsert(request) {
        assertOpen();
        if (request.rows.length === 0) return;
        insertRows(request.table, planBulkWrite(request), request.rows);
      },
      // An insert that skips stored keys (ON CONFLICT DO NOTHING) is SQLite's cheapest way in for new
      // rows: plain INSERTs under a savepoint (to take them back on a conflict) measured slower, likely
      // the savepoint journaling every page. Fewer rows changed than given means a key was stored.
      async insertNew(request) {
        assertOpen();
        if (request.rows.length === 0) return true;
        const plan = { ...planBulkWrite(request), assigned: [] };
        return insertRows(request.table, plan, request.rows) === request.rows.length;
      },
      async update(request) {
        assertOpen();
        if (request.rows.length === 0) return;
        const plan = planBulkWrite(request);
        if (plan.assigned.length === 0) return;
        // One row a statement: an update rewrites the whole stored row, which costs far more than the
        // statement (100 rows a statement through UPDATE ... FROM (VALUES ...) measured no faster).
        runRows(prepare(updateSql(request.table, plan)), [...plan.assigned, ...plan.key], request.rows);
      },
    };
    try {
      return await work(trx, writer);
    } finally {
      open = false;
    }
  };
}
