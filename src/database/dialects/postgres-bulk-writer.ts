/**
 * PostgreSQL's bulk writer: a few thousand rows a statement, each column sent as one typed array and
 * turned back into rows by `unnest`, so a statement has as many parameters as columns however many
 * rows it carries (a multi-row VALUES list would hit the 65,535-parameter limit at a few thousand rows
 * and make the server parse every placeholder).
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../database.types.js';
import { columnValues, planBulkWrite, type BulkPlan, type BulkWriter } from './bulk-writer.js';

/** Rows a statement: large enough to amortise the round trip, small enough to keep messages modest. */
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

/** Hands `work` a writer whose statements run on `trx` and that stops working once `work` settles. */
export async function withPostgresBulkWriter<T>(
  trx: Kysely<Database>,
  work: (trx: Kysely<Database>, writer: BulkWriter) => Promise<T>,
): Promise<T> {
  let open = true;
  const assertOpen = () => {
    if (!open) throw new Error('the bulk writer can only be used inside the write transaction that lent it');
  };
  const writer = createPostgresBulkWriter(trx);
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
    });
  } finally {
    open = false;
  }
}

function createPostgresBulkWriter(trx: Kysely<Database>): BulkWriter {
  return {
    async upsert(request) {
      if (request.rows.length === 0) return;
      const plan = planBulkWrite(request);
      const onConflict =
        plan.assigned.length === 0
          ? sql`do nothing`
          : sql`do update set ${sql.join(plan.assigned.map((c) => sql`${sql.ref(c)} = ${sql.ref(`excluded.${c}`)}`))}`;
      for (const rows of slices(request.rows)) {
        await sql`insert into ${sql.table(request.table)} (${refs(plan.columns)})
          select * from ${unnestOf(plan, rows, plan.columns)}
          on conflict (${refs(plan.key)}) ${onConflict}`.execute(trx);
      }
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
