/**
 * SQLite's bulk writer: one prepared statement a table and column set, cached for the life of the
 * connection, run once a row.
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

/** Names come from chatport's own table specs, never from input; quoted all the same. */
function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function upsertSql(table: string, plan: BulkPlan): string {
  const columns = plan.columns.map(quote).join(', ');
  const placeholders = plan.columns.map(() => '?').join(', ');
  const onConflict =
    plan.assigned.length === 0
      ? 'do nothing'
      : `do update set ${plan.assigned.map((c) => `${quote(c)} = excluded.${quote(c)}`).join(', ')}`;
  return (
    `insert into ${quote(table)} (${columns}) values (${placeholders}) ` +
    `on conflict (${plan.key.map(quote).join(', ')}) ${onConflict}`
  );
}

function updateSql(table: string, plan: BulkPlan): string {
  return (
    `update ${quote(table)} set ${plan.assigned.map((c) => `${quote(c)} = ?`).join(', ')} ` +
    `where ${plan.key.map((c) => `${quote(c)} = ?`).join(' and ')}`
  );
}

/** Binds each row's values in `order` and runs the statement. Arguments bind faster than one array. */
function runRows(statement: Statement, order: readonly string[], rows: ReadonlyArray<object>): void {
  const values = new Array<unknown>(order.length);
  for (const row of rows) {
    const record = row as Record<string, unknown>;
    for (let i = 0; i < order.length; i++) values[i] = record[order[i]!];
    statement.run(...values);
  }
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
    const writer: BulkWriter = {
      async upsert(request) {
        assertOpen();
        if (request.rows.length === 0) return;
        const plan = planBulkWrite(request);
        runRows(prepare(upsertSql(request.table, plan)), plan.columns, request.rows);
      },
      async update(request) {
        assertOpen();
        if (request.rows.length === 0) return;
        const plan = planBulkWrite(request);
        if (plan.assigned.length === 0) return;
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
