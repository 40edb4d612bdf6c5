import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Context } from '../../src/context.js';
import type { UserRow } from '../../src/database/database.types.js';
import { userTable } from '../../src/modules/imports/import-tables.js';
import { testDialects } from '../helpers/databases.js';
import { openTestContext, type TestContext } from '../helpers/test-context.js';

const userColumns = userTable.columns;

function user(id: string, changes: Partial<UserRow> = {}): UserRow {
  return {
    app_id: 1,
    id,
    role: 'user',
    custom: '{}',
    teams: '[]',
    banned: 0,
    created_at: 1_700_000_000_000_000,
    updated_at: 1_700_000_000_000_000,
    deleted_at: null,
    deactivated_at: null,
    ...changes,
  };
}

// The bulk writer's contract, run against every database.
describe.each(testDialects)('bulk writer (%s)', (dialectName) => {
  let t: TestContext;
  let context: Context;
  const storedUsers = () => context.db.selectFrom('users').selectAll().orderBy('id').execute();

  beforeAll(async () => {
    t = await openTestContext(dialectName);
    context = t.context;
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    await context.db.deleteFrom('users').execute();
  });

  it('inserts rows, then replaces the written columns of rows whose key exists', async () => {
    await context.dialect.bulkWriteTransaction((_trx, writer) =>
      writer.upsert({
        table: 'users',
        columns: userColumns,
        key: ['app_id', 'id'],
        rows: [user('a'), user('b', { role: 'admin' })],
      }),
    );
    await context.dialect.bulkWriteTransaction((_trx, writer) =>
      writer.upsert({
        table: 'users',
        columns: userColumns,
        key: ['app_id', 'id'],
        rows: [user('b', { role: 'user', banned: 1, deleted_at: 5 }), user('c')],
      }),
    );
    expect(await storedUsers()).toEqual([user('a'), user('b', { banned: 1, deleted_at: 5 }), user('c')]);
  });

  it('keeps keepOnConflict columns and columns it does not write as they are stored', async () => {
    await context.db
      .insertInto('users')
      .values(user('a', { role: 'admin', teams: '["red"]', created_at: 7 }))
      .execute();
    await context.dialect.bulkWriteTransaction((_trx, writer) =>
      writer.upsert({
        table: 'users',
        columns: {
          app_id: 'integer',
          id: 'text',
          role: 'text',
          custom: 'text',
          created_at: 'bigint',
          updated_at: 'bigint',
        },
        key: ['app_id', 'id'],
        keepOnConflict: ['created_at'],
        rows: [
          { app_id: 1, id: 'a', role: 'user', custom: '{"x":1}', created_at: 99, updated_at: 100 },
          { app_id: 1, id: 'new', role: 'user', custom: '{}', created_at: 99, updated_at: 99 },
        ],
      }),
    );
    const [a, created] = await storedUsers();
    expect(a).toEqual(
      user('a', { role: 'user', custom: '{"x":1}', teams: '["red"]', created_at: 7, updated_at: 100 }),
    );
    // Columns it does not write take their defaults on a new row.
    expect(created).toMatchObject({ id: 'new', teams: '[]', banned: 0, created_at: 99 });
  });

  it('carries any text unchanged: quotes, backslashes, tabs, line ends, braces, commas, NULL-like words, unicode', async () => {
    const awkward = [
      '"quoted"',
      'back\\slash',
      '{a,b}',
      'NULL',
      '',
      ' padded ',
      'ünïcödé ✓ 𝄞',
      "it's",
      'a\nb',
      'tab\tand\r\ncarriage return',
      '\\N',
      '\\.',
      'ends in a backslash\\',
      '\\\\',
    ];
    await context.dialect.bulkWriteTransaction((_trx, writer) =>
      writer.upsert({
        table: 'users',
        columns: userColumns,
        key: ['app_id', 'id'],
        rows: awkward.map((text, i) => user(`u${String(i).padStart(2, '0')}`, { custom: text, role: text })),
      }),
    );
    const rows = await storedUsers();
    expect(rows.map((r) => r.custom)).toEqual(awkward);
    expect(rows.map((r) => r.role)).toEqual(awkward);
  });

  it('refuses text holding NUL on PostgreSQL, whose text cannot hold it, and writes nothing', async () => {
    const written = context.dialect.bulkWriteTransaction(async (_trx, writer) => {
      await writer.upsert({
        table: 'users',
        columns: userColumns,
        key: ['app_id', 'id'],
        rows: [user('first')],
      });
      await writer.upsert({
        table: 'users',
        columns: userColumns,
        key: ['app_id', 'id'],
        rows: [user('nul', { custom: 'a\u0000b' })],
      });
    });
    if (dialectName === 'postgres') {
      await expect(written).rejects.toThrow(/NUL/);
      expect(await storedUsers()).toEqual([]);
    } else {
      await written;
      expect((await storedUsers()).map((r) => r.custom)).toEqual(['{}', 'a\u0000b']);
    }
  });

  it('writes thousands of rows in one call, more than one PostgreSQL statement holds', async () => {
    const rows = Array.from({ length: 12_345 }, (_, i) => user(`bulk-${i}`, { created_at: i }));
    await context.dialect.bulkWriteTransaction((_trx, writer) =>
      writer.upsert({ table: 'users', columns: userColumns, key: ['app_id', 'id'], rows }),
    );
    const total = await context.db
      .selectFrom('users')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('created_at').as('sum')])
      .executeTakeFirstOrThrow();
    expect(Number(total.n)).toBe(12_345);
    expect(Number(total.sum)).toBe((12_344 * 12_345) / 2);
  });

  it('updates the non-key columns of existing rows and skips keys without a row', async () => {
    await context.db
      .insertInto('users')
      .values([user('a'), user('b')])
      .execute();
    await context.dialect.bulkWriteTransaction((_trx, writer) =>
      writer.update({
        table: 'users',
        columns: { app_id: 'integer', id: 'text', role: 'text', banned: 'integer' },
        key: ['app_id', 'id'],
        rows: [
          { app_id: 1, id: 'b', role: 'admin', banned: 1 },
          { app_id: 1, id: 'missing', role: 'admin', banned: 1 },
        ],
      }),
    );
    expect(await storedUsers()).toEqual([user('a'), user('b', { role: 'admin', banned: 1 })]);
  });

  it('upserts and updates hundreds of rows alike, several rows a statement and the rest one at a time', async () => {
    const ids = Array.from({ length: 250 }, (_, i) => `many-${String(i).padStart(3, '0')}`);
    await context.db
      .insertInto('users')
      .values(ids.filter((_, i) => i % 2 === 0).map((id) => user(id, { banned: 1 })))
      .execute();
    await context.dialect.bulkWriteTransaction((_trx, writer) =>
      writer.upsert({
        table: 'users',
        columns: userColumns,
        key: ['app_id', 'id'],
        keepOnConflict: ['banned'],
        rows: ids.map((id, i) => user(id, { role: `role-${i}`, banned: 0 })),
      }),
    );
    await context.dialect.bulkWriteTransaction((_trx, writer) =>
      writer.update({
        table: 'users',
        columns: { app_id: 'integer', id: 'text', custom: 'text', deleted_at: 'bigint' },
        key: ['app_id', 'id'],
        rows: [...ids, 'missing-1', 'missing-2']
          .filter((_, i) => i % 3 !== 0)
          .map((id, i) => ({ app_id: 1, id, custom: `{"n":${i}}`, deleted_at: i })),
      }),
    );
    const expected = ids.map((id, i) => user(id, { role: `role-${i}`, banned: i % 2 === 0 ? 1 : 0 }));
    [...ids, 'missing-1', 'missing-2']
      .filter((_, i) => i % 3 !== 0)
      .forEach((id, i) => {
        const row = expected.find((r) => r.id === id);
        if (row) Object.assign(row, { custom: `{"n":${i}}`, deleted_at: i });
      });
    const stored = await storedUsers();
    expect(
      stored.map((r) => ({ ...r, deleted_at: r.deleted_at === null ? null : Number(r.deleted_at) })),
    ).toEqual(expected);
  });

  it('inserts new rows, hundreds in one call, and says they all went in', async () => {
    const rows = Array.from({ length: 250 }, (_, i) =>
      user(`new-${String(i).padStart(3, '0')}`, { created_at: i }),
    );
    const inserted = await context.dialect.bulkWriteTransaction((_trx, writer) =>
      writer.insertNew({ table: 'users', columns: userColumns, key: ['app_id', 'id'], rows }),
    );
    expect(inserted).toBe(true);
    expect(await storedUsers()).toEqual(rows);
  });

  it('given a stored key, says so and leaves it stored (PostgreSQL writes none of the rows, SQLite the new ones); the transaction writes on', async () => {
    await context.db
      .insertInto('users')
      .values(user('taken', { role: 'admin' }))
      .execute();
    const rows = Array.from({ length: 250 }, (_, i) => user(`try-${String(i).padStart(3, '0')}`));
    rows.splice(200, 0, user('taken'));
    const inserted = await context.dialect.bulkWriteTransaction(async (trx, writer) => {
      await writer.upsert({
        table: 'users',
        columns: userColumns,
        key: ['app_id', 'id'],
        rows: [user('before')],
      });
      const result = await writer.insertNew({
        table: 'users',
        columns: userColumns,
        key: ['app_id', 'id'],
        rows,
      });
      await trx.insertInto('users').values(user('after')).execute();
      await writer.upsert({
        table: 'users',
        columns: userColumns,
        key: ['app_id', 'id'],
        rows: [user('later')],
      });
      return result;
    });
    const around = [
      ['after', 'user'],
      ['before', 'user'],
      ['later', 'user'],
    ];
    expect(inserted).toBe(false);
    if (dialectName === 'postgres') {
      expect((await storedUsers()).map((r) => [r.id, r.role])).toEqual([...around, ['taken', 'admin']]);
    } else {
      expect((await storedUsers()).map((r) => [r.id, r.role])).toEqual([
        ...around,
        ['taken', 'admin'],
        ...rows.filter((r) => r.id !== 'taken').map((r) => [r.id, 'user']),
      ]);
    }
  });

  it('rolls its rows back with the transaction, together with the query builder’s', async () => {
    await expect(
      context.dialect.bulkWriteTransaction(async (trx, writer) => {
        await trx.insertInto('users').values(user('via-kysely')).execute();
        await writer.upsert({
          table: 'users',
          columns: userColumns,
          key: ['app_id', 'id'],
          rows: [user('via-bulk')],
        });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await storedUsers()).toEqual([]);
  });

  it('refuses to write once the transaction that lent it is over', async () => {
    let kept: Parameters<Parameters<Context['dialect']['bulkWriteTransaction']>[0]>[1] | undefined;
    await context.dialect.bulkWriteTransaction(async (_trx, writer) => {
      kept = writer;
    });
    await expect(
      kept!.upsert({ table: 'users', columns: userColumns, key: ['app_id', 'id'], rows: [user('late')] }),
    ).rejects.toThrow(/inside the write transaction/);
    expect(await storedUsers()).toEqual([]);
  });
});
