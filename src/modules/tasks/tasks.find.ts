import type { CompiledQuery, Kysely } from 'kysely';
import type { Database } from '../../database/database.types.js';
import type { TaskStatusRow } from './tasks.types.js';

/** The columns of a TaskStatusRow: a task's status, times, result or error, and published file. */
const taskStatusColumns = [
  'id',
  'app_id',
  'kind',
  'status',
  'created_at',
  'updated_at',
  'result',
  'error',
  'file_key',
  'file_expires_at',
  'file_deleted_at',
  'progress',
] as const satisfies ReadonlyArray<keyof TaskStatusRow>;

// Compiling the query costs more than running it (a primary-key lookup), and every status request
// runs it: it is built and compiled once per database handle, and only its parameters change.
const ID_PLACEHOLDER = '\u0000task id';
const APP_PLACEHOLDER = -1;
const compiledQueries = new WeakMap<Kysely<Database>, CompiledQuery<TaskStatusRow>>();

function compiledFindTask(db: Kysely<Database>): CompiledQuery<TaskStatusRow> {
  let query = compiledQueries.get(db);
  if (!query) {
    query = db
      .selectFrom('tasks')
      .select(taskStatusColumns)
      .where('id', '=', ID_PLACEHOLDER)
      .where('app_id', '=', APP_PLACEHOLDER)
      .compile();
    const [first, second, ...rest] = query.parameters;
    if (first !== ID_PLACEHOLDER || second !== APP_PLACEHOLDER || rest.length > 0) {
      throw new Error(`findTask: unexpected parameters ${JSON.stringify(query.parameters)}`);
    }
    compiledQueries.set(db, query);
  }
  return query;
}

/** One app's task by id: a primary-key lookup. Another app's task is as absent as an unknown one. */
export async function findTask(
  db: Kysely<Database>,
  appId: number,
  id: string,
): Promise<TaskStatusRow | undefined> {
  const query = compiledFindTask(db);
  const { rows } = await db.executeQuery<TaskStatusRow>({ ...query, parameters: [id, appId] });
  return rows[0];
}
