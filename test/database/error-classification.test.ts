import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { openTestContext, type TestContext } from '../helpers/test-context.js';

/** The error a promise fails with (the test fails if it does not). */
async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the statement to fail');
}

describe.each(testDialects)('each dialect tells what a driver error means to a client (%s)', (dialect) => {
  let t: TestContext;
  const user = (id: string) => ({
    app_id: 1,
    id,
    role: 'user',
    custom: '{}',
    teams: '[]',
    banned: 0,
    created_at: 1,
    updated_at: 1,
    deleted_at: null,
    deactivated_at: null,
  });

  beforeAll(async () => {
    t = await openTestContext(dialect);
  });
  afterAll(() => t.close());

  it('a unique key already taken is a conflict', async () => {
    const { db } = t.context;
    await db.insertInto('users').values(user('twice')).execute();
    const error = await failureOf(db.insertInto('users').values(user('twice')).execute());
    expect(t.context.dialect.classifyError(error)).toBe('conflict');
  });

  it('a lock another connection holds is busy', async () => {
    let error: unknown;
    if (dialect === 'sqlite') {
      const file = t.env.DATABASE_URL!.slice('sqlite:'.length);
      const holder = new SqliteDatabase(file);
      const waiter = new SqliteDatabase(file, { timeout: 0 });
      try {
        holder.exec('begin immediate');
        try {
          waiter.exec(`insert into apps (name, api_key, api_secret, created_at) values ('x', 'k', 's', 1)`);
        } catch (caught) {
          error = caught;
        }
        holder.exec('rollback');
      } finally {
        holder.close();
        waiter.close();
      }
    } else {
      const holder = new pg.Client({ connectionString: t.env.DATABASE_URL });
      const waiter = new pg.Client({ connectionString: t.env.DATABASE_URL });
      await holder.connect();
      await waiter.connect();
      try {
        await holder.query('begin');
        await holder.query('lock table apps in exclusive mode');
        await waiter.query('begin');
        await waiter.query("set local lock_timeout = '10ms'");
        error = await failureOf(waiter.query('lock table apps in exclusive mode'));
        await waiter.query('rollback');
        await holder.query('rollback');
      } finally {
        await holder.end();
        await waiter.end();
      }
    }
    expect(t.context.dialect.classifyError(error)).toBe('busy');
  });

  it('no room left to write is storageFull', async () => {
    const { db } = t.context;
    let error: unknown;
    if (dialect === 'sqlite') {
      const { rows } = await sql<{ page_count: number }>`pragma page_count`.execute(db);
      await sql.raw(`pragma max_page_count = ${rows[0]!.page_count}`).execute(db);
      try {
        error = await failureOf(
          db
            .insertInto('users')
            .values({ ...user('big'), custom: JSON.stringify({ x: 'x'.repeat(200_000) }) })
            .execute(),
        );
      } finally {
        await sql.raw('pragma max_page_count = 4294967294').execute(db);
      }
    } else {
      // PostgreSQL's own error for a full disk (SQLSTATE 53100), raised by the server itself.
      error = await failureOf(
        sql`do $$ begin raise exception 'could not extend file' using errcode = 'disk_full'; end $$`.execute(
          db,
        ),
      );
    }
    expect(t.context.dialect.classifyError(error)).toBe('storageFull');
  });

  it('any other error is left unclassified (an internal error)', async () => {
    const error = await failureOf(sql`select * from no_such_table`.execute(t.context.db));
    expect(t.context.dialect.classifyError(error)).toBeUndefined();
    expect(t.context.dialect.classifyError(new Error('plain'))).toBeUndefined();
    expect(t.context.dialect.classifyError('not even an error')).toBeUndefined();
  });
});
