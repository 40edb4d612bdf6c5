import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestContext, type TestContext } from '../helpers/test-context.js';
import { waitFor } from '../helpers/wait.js';

/** SQLite only: PostgreSQL checkpoints in its own server processes. */
describe('SQLite WAL checkpoints run on a thread of their own, not in a committing request', () => {
  let t: TestContext;
  let file: string;

  beforeAll(async () => {
    t = await openTestContext('sqlite');
    file = path.join(t.config.dataDir, 'chatport.sqlite');
  });
  afterAll(() => t.close());

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

  it("the process's own handle checkpoints only far past SQLite's default", async () => {
    const { rows } = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(
      t.context.db,
    );
    expect(rows[0]!.wal_autocheckpoint).toBeGreaterThan(1000);
  });

  it('write transactions get their WAL copied into the database file meanwhile', async () => {
    // Each transaction writes a few pages: 150 of them stay far below SQLite's default threshold of
    // 1,000 pages, so only the thread (asked after every 100) can have copied them into the file.
    const before = fs.statSync(file).size;
    for (let i = 0; i < 150; i++) {
      await t.context.dialect.writeTransaction((trx) =>
        trx
          .insertInto('users')
          .values(user(`writer-${String(i).padStart(3, '0')}-${'x'.repeat(200)}`))
          .execute(),
      );
    }
    await waitFor(
      () => fs.statSync(file).size,
      (size) => size > before,
      { what: 'the database file to take the checkpointed pages' },
    );
    const { count } = await t.context.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('id', 'like', 'writer-%')
      .executeTakeFirstOrThrow();
    expect(Number(count)).toBe(150);
  });
});
