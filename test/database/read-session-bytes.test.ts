/**
 * A read session's queryBytes: text comes back as its exact UTF-8 bytes, parameters of every kind mean
 * what they mean to `query` (PostgreSQL inlines them into a binary COPY, which takes none), on both
 * databases.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inlineParameters, parseBinaryCopy } from '../../src/database/dialects/postgres-copy.js';
import { testDialects } from '../helpers/databases.js';
import { openTestContext, type TestContext } from '../helpers/test-context.js';

const AWKWARD = [
  "it's",
  'back\\slash \\x41 \\n',
  "E'\\'' $1 $2 \"$1\"",
  'line\nbreak\ttab\r',
  'émoji 😀 and \u2028 \u0001',
  '',
];

describe.each(testDialects)('read session queryBytes (%s)', (dialect) => {
  let t: TestContext;

  beforeAll(async () => {
    t = await openTestContext(dialect);
  });
  afterAll(() => t.close());

  it('answers text as its UTF-8 bytes, NULL as null, with parameters of every kind', async () => {
    const rows = await t.context.dialect.readSession({ parallelism: 2 }, async (session) => {
      const query = (text: string, n: number) =>
        sql<unknown>`select ${text} || '' as text, cast(cast(${n} as bigint) + 1 as text) as n, cast(null as text) as none,
          '$1 ''quoted''' as fixed`.compile(session.db);
      return Promise.all(AWKWARD.map((text, i) => session.queryBytes(query(text, -i * 1e12))));
    });
    expect(rows.map(([row]) => row!.map((value) => value?.toString('utf8') ?? null))).toEqual(
      AWKWARD.map((text, i) => [text, String(-i * 1e12 + 1), null, "$1 'quoted'"]),
    );
    for (const [row] of rows) expect(Buffer.isBuffer(row![0])).toBe(true);
  });

  it('answers many rows, in order, and none', async () => {
    const [many, none] = await t.context.dialect.readSession({ parallelism: 2 }, (session) =>
      Promise.all([
        session.queryBytes(
          sql<unknown>`with recursive n(i) as (select 1 union all select i + 1 from n where i < ${300})
            select cast(i as text) as number, ${'x'} || cast(i as text) as x from n order by n.i`.compile(
            session.db,
          ),
        ),
        session.queryBytes(sql<unknown>`select ${'a'} as a where 1 = 0`.compile(session.db)),
      ]),
    );
    expect(many.map((row) => row.map((value) => value!.toString()))).toEqual(
      Array.from({ length: 300 }, (_, i) => [String(i + 1), `x${i + 1}`]),
    );
    expect(none).toEqual([]);
  });

  it('runs a statement made everywhere once on every connection, those connecting or started meanwhile too, and keeps those made before', async () => {
    const answers = await t.context.dialect.readSession({ parallelism: 3 }, async (session) => {
      await session.everywhere(sql`create temporary table early_rows (n integer)`.compile(session.db));
      // Two queries at once start connections; the statements below are made while they connect.
      const waiting = sql<{ n: number }>`select 1 as n`.compile(session.db);
      const started = [session.query(waiting), session.query(waiting)];
      const making = session.everywhere(
        sql`create temporary table late_rows (n integer)`.compile(session.db),
      );
      // A third connection, started while the statement is being made everywhere.
      started.push(session.query(waiting));
      await making;
      await session.everywhere(sql`insert into late_rows (n) values (1)`.compile(session.db));
      await Promise.all(started);
      const count = sql<{
        n: number | string;
      }>`select count(*) + (select count(*) from early_rows) as n from late_rows`.compile(session.db);
      return Promise.all(Array.from({ length: 6 }, () => session.query(count)));
    });
    expect(answers.map(([row]) => Number(row!.n))).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('gives every connection, those startAll starts ahead and any started later, the statements made everywhere before and while it starts', async () => {
    const answers = await t.context.dialect.readSession({ parallelism: 3 }, async (session) => {
      await session.everywhere(sql`create temporary table before_start (n integer)`.compile(session.db));
      session.startAll();
      await session.everywhere(sql`create temporary table while_starting (n integer)`.compile(session.db));
      await session.everywhere(sql`insert into while_starting (n) values (1), (2)`.compile(session.db));
      const count = sql<{
        n: number | string;
      }>`select count(*) + (select count(*) from before_start) as n from while_starting`.compile(session.db);
      // Queries at once, while the connections start and once all have started.
      const early = await Promise.all(Array.from({ length: 6 }, () => session.query(count)));
      await new Promise((resolve) => setTimeout(resolve, 500));
      const late = await Promise.all(Array.from({ length: 6 }, () => session.query(count)));
      return [...early, ...late];
    });
    expect(answers.map(([row]) => Number(row!.n))).toEqual(Array.from({ length: 12 }, () => 2));
  });
});

describe('inlining parameters into a COPY', () => {
  it('replaces each $n outside quotes with its literal', () => {
    expect(
      inlineParameters(`select $1, '$1 it''s', "a$2", $2 - $3, $10`, [
        "o'k\\",
        7,
        -2,
        null,
        true,
        false,
        1n,
        'x',
        'y',
        'ten',
      ]),
    ).toBe(`select E'o''k\\\\', '$1 it''s', "a$2", 7 - (-2), E'ten'`);
  });

  it('refuses what it cannot write as a literal', () => {
    expect(() => inlineParameters('select $1', [Number.NaN])).toThrow();
    expect(() => inlineParameters('select $1', [{}])).toThrow();
    expect(() => inlineParameters('select $1', ['\0'])).toThrow();
    expect(() => inlineParameters('select $2', [1])).toThrow();
    expect(() => inlineParameters("select 'open", [])).toThrow();
  });

  it('parses the binary COPY format and refuses anything else', () => {
    const header = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
    const row = Buffer.alloc(2 + 4 + 2 + 4);
    row.writeInt16BE(2, 0);
    row.writeInt32BE(2, 2);
    row.write('hi', 6);
    row.writeInt32BE(-1, 8);
    const trailer = Buffer.from([0xff, 0xff]);
    expect(parseBinaryCopy(Buffer.concat([header, row, trailer]))).toEqual([[Buffer.from('hi'), null]]);
    expect(() => parseBinaryCopy(Buffer.from('not a copy at all, no'))).toThrow();
  });
});
