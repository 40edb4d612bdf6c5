import { CompiledQuery, sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/database/database.types.js';
import { createPostgresDialect } from '../../src/database/dialects/postgres.js';
import type { DatabaseDialect } from '../../src/database/dialects/dialect.js';
import { createPostgresDatabase, postgresUrl } from '../helpers/databases.js';

/** The statements prepared on the connection `db` runs on (a pool of one), by their text. */
async function preparedTexts(db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(db);
  return rows.map((row) => row.statement);
}

describe.skipIf(!postgresUrl)(
  'PostgreSQL runs the texts it is told to keep prepared as named statements',
  () => {
    let database: { url: string; drop(): Promise<void> };
    let dialect: DatabaseDialect;

    beforeAll(async () => {
      database = await createPostgresDatabase();
      dialect = createPostgresDialect(database.url, { poolSize: 1 });
    });
    afterAll(async () => {
      await dialect?.close();
      await database?.drop();
    });

    it('a kept text is parsed once per connection and answers every run; another text is not kept', async () => {
      const kept = 'select cast($1 as integer) + 1 as n';
      dialect.keepPrepared(kept);
      for (const value of [1, 2, 3]) {
        const { rows } = await dialect.db.executeQuery<{ n: number }>(CompiledQuery.raw(kept, [value]));
        expect(rows).toEqual([{ n: value + 1 }]);
      }
      const other = 'select cast($1 as integer) + 2 as n';
      expect((await dialect.db.executeQuery<{ n: number }>(CompiledQuery.raw(other, [1]))).rows).toEqual([
        { n: 3 },
      ]);
      expect(await preparedTexts(dialect.db)).toEqual([kept]);
    });

    it('the derived-writes connections keep the same texts', async () => {
      const kept = 'select cast($1 as text) as t';
      dialect.keepPrepared(kept);
      await dialect.derivedWritesDb.executeQuery(CompiledQuery.raw(kept, ['a']));
      const prepared = await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(
        dialect.derivedWritesDb,
      );
      expect(prepared.rows.map((row) => row.statement)).toContain(kept);
    });
  },
);
