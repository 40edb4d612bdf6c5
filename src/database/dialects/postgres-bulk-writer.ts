/**
 * PostgreSQL's bulk writer. Upserts go through `COPY ... FROM STDIN`, PostgreSQL's own loader: the rows
 * are streamed as COPY text into a temporary staging table (no indexes, no WAL), then moved into the
 * table by one `INSERT ... SELECT ... ON CONFLICT`, which COPY itself cannot do. Rows the caller expects
 * to be new (insertNew) are copied straight into the table instead, under a savepoint that takes them
 * back if a key is stored after all. Updates (a few hundred counter rows a batch) send each column as
 * one typed array turned back into rows by `unnest`, one statement per few thousand rows.
 *
 * COPY needs the driver's own client, which Kysely does not lend out: the transaction runs on a
 * client taken from the pool for it, wrapped as a pool of one for a Kysely instance of its own, so
 * the query builder's statements and the COPY streams share the connection and the transaction.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  Kysely,
  PostgresDialect,
  sql,
  type PostgresPool,
  type PostgresPoolClient,
  type RawBuilder,
} from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import Cursor from 'pg-cursor';
import type { Database } from '../database.types.js';
import { columnValues, planBulkWrite, type BulkPlan, type BulkWriter } from './bulk-writer.js';
import { driverErrorCode } from './dialect.js';
import { copyText } from './postgres-copy-text.js';

const INSERT_SAVEPOINT = 'chatport_insert_new';

const UNIQUE_VIOLATION = '23505';

/** Rows an update statement: large enough to amortise the round trip, small enough to keep messages modest. */
const ROWS_PER_STATEMENT = 5000;

function slices<T>(rows: readonly T[]): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT)
    result.push(rows.slice(i, i + ROWS_PER_STATEMENT));
  return result;
}

/** `unnest($1::text[], $2::bigint[], ...)`: the rows, one typed array a column. */
function unnestOf(
  plan: BulkPlan,
  rows: ReadonlyArray<object>,
  order: readonly string[],
): RawBuilder<unknown> {
  const arrays = order.map(
    (column) => sql`${columnValues(rows, column)}::${sql.raw(plan.types[plan.columns.indexOf(column)]!)}[]`,
  );
  return sql`unnest(${sql.join(arrays)})`;
}

const refs = (columns: readonly string[]) => sql.join(columns.map((c) => sql.ref(c)));

/** Names come from chatport's own table specs, never from input; quoted all the same. */
const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * Runs `work` in a transaction on a connection of `pool` held for it, handing it a writer whose
 * statements run in that transaction and that stops working once `work` settles.
 */
export async function withPostgresBulkTransaction<T>(
  pool: pg.Pool,
  work: (trx: Kysely<Database>, writer: BulkWriter) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  const lent = {
    query: (...args: unknown[]) => (client as unknown as { query(...a: unknown[]): unknown }).query(...args),
    release: () => {},
  } as unknown as PostgresPoolClient;
  const onePool: PostgresPool = { connect: async () => lent, end: async () => {} };
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: onePool, cursor: Cursor }) });
  let failed = false;
  try {
    return await db.transaction().execute((trx) => withWriter(trx, client, work));
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    await db.destroy();
    // After a failure the connection may be anywhere in the protocol (a COPY cut short): close it
    // rather than hand it to the next user.
    client.release(failed);
  }
}

async function withWriter<T>(
  trx: Kysely<Database>,
  client: pg.PoolClient,
  work: (trx: Kysely<Database>, writer: BulkWriter) => Promise<T>,
): Promise<T> {
  let open = true;
  const assertOpen = () => {
    if (!open) throw new Error('the bulk writer can only be used inside the write transaction that lent it');
  };
  const writer = createPostgresBulkWriter(trx, client);
  try {
    return await work(trx, {
      async upsert(request) {
        assertOpen();
        await writer.upsert(request);
      },
      async update(request) {
        assertOpen();
        await writer.update(request);
      },
      async insertNew(request) {
        assertOpen();
        return writer.insertNew(request);
      },
    });
  } finally {
    open = false;
  }
}

function createPostgresBulkWriter(trx: Kysely<Database>, client: pg.PoolClient): BulkWriter {
  /** Staging tables made in this transaction, by table and columns; dropped at commit. */
  const stages = new Map<string, string>();

  async function stageFor(table: string, plan: BulkPlan): Promise<string> {
    const signature = `${table}(${plan.columns.join(',')})`;
    let stage = stages.get(signature);
    if (stage === undefined) {
      stage = `chatport_bulk_stage_${stages.size + 1}`;
      // The columns and their types, without constraints or indexes.
      await sql`create temporary table ${sql.table(stage)} on commit drop as
        select ${refs(plan.columns)} from ${sql.table(table)} with no data`.execute(trx);
      stages.set(signature, stage);
    }
    return stage;
  }

  async function copyInto(table: string, plan: BulkPlan, rows: ReadonlyArray<object>): Promise<void> {
    const columns = plan.columns.map(quote).join(', ');
    await pipeline(
      Readable.from(copyText(rows, plan.columns)),
      client.query(copyFrom(`copy ${quote(table)} (${columns}) from stdin`)),
    );
  }

  return {
    async upsert(request) {
      if (request.rows.length === 0) return;
      const plan = planBulkWrite(request);
      const stage = await stageFor(request.table, plan);
      await copyInto(stage, plan, request.rows);
      const onConflict =
        plan.assigned.length === 0
          ? sql`do nothing`
          : sql`do update set ${sql.join(plan.assigned.map((c) => sql`${sql.ref(c)} = ${sql.ref(`excluded.${c}`)}`))}`;
      await sql`insert into ${sql.table(request.table)} (${refs(plan.columns)})
        select ${refs(plan.columns)} from ${sql.table(stage)}
        on conflict (${refs(plan.key)}) ${onConflict}`.execute(trx);
      await sql`truncate ${sql.table(stage)}`.execute(trx);
    },
    async insertNew(request) {
      if (request.rows.length === 0) return true;
      await sql`savepoint ${sql.raw(INSERT_SAVEPOINT)}`.execute(trx);
      try {
        await copyInto(request.table, planBulkWrite(request), request.rows);
      } catch (error) {
        // The server ends a refused COPY with an error and waits for the next query: the connection
        // is back in step, and the savepoint undoes the rows copied before the conflict.
        if (driverErrorCode(error) !== UNIQUE_VIOLATION) throw error;
        await sql`rollback to savepoint ${sql.raw(INSERT_SAVEPOINT)}`.execute(trx);
        await sql`release savepoint ${sql.raw(INSERT_SAVEPOINT)}`.execute(trx);
        return false;
      }
      await sql`release savepoint ${sql.raw(INSERT_SAVEPOINT)}`.execute(trx);
      return true;
    },
    async update(request) {
      if (request.rows.length === 0) return;
      const plan = planBulkWrite(request);
      if (plan.assigned.length === 0) return;
      const order = [...plan.key, ...plan.assigned];
      const assignments = sql.join(plan.assigned.map((c) => sql`${sql.ref(c)} = ${sql.ref(`source.${c}`)}`));
      const matches = sql.join(
        plan.key.map((c) => sql`${sql.ref(`${request.table}.${c}`)} = ${sql.ref(`source.${c}`)}`),
        sql` and `,
      );
      for (const rows of slices(request.rows)) {
        await sql`update ${sql.table(request.table)} set ${assignments}
          from ${unnestOf(plan, rows, order)} as source (${refs(order)})
          where ${matches}`.execute(trx);
      }
    },
  };
}
