/**
 * PostgreSQL's read session: pooled connections held for the session, each a server process of its
 * own, so queries sent to different ones run on different cores. JIT is off on them: a long read runs
 * the same large expressions page after page, and PostgreSQL would compile them again for every page
 * (over a second each) to save a few milliseconds of evaluation.
 */
import { sql, type CompiledQuery, type Kysely } from 'kysely';
import type pg from 'pg';
import type { Database } from '../database.types.js';
import { copyRows } from './postgres-copy.js';
import { rowsAsBytes, type ReadSession, type ReadSessionOptions } from './read-session.js';

interface Connection {
  client: pg.PoolClient | undefined;
  busy: number;
  /** Connected, JIT off, and the session's `everywhere` statements replayed. */
  ready: Promise<void>;
  /**
   * Settles once the connection is ready and every query given to it before is done: queries wait
   * their turn here, not in pg's own queue (deprecated).
   */
  free: Promise<unknown>;
}

async function run<R>(client: pg.PoolClient, query: CompiledQuery<R>): Promise<R[]> {
  const result = await client.query(query.sql, query.parameters as unknown[]);
  return result.rows as R[];
}

/** Runs `work` in a read session (see DatabaseDialect.readSession) whose own connection is `db`. */
export async function withPostgresReadSession<T>(
  db: Kysely<Database>,
  pool: pg.Pool,
  options: ReadSessionOptions,
  work: (session: ReadSession) => Promise<T>,
): Promise<T> {
  const connections: Connection[] = [];
  const everywhere: CompiledQuery[] = [];
  const parallelism = Math.max(1, Math.floor(options.parallelism));

  function pick(): Connection {
    const idle = connections.find((connection) => connection.busy === 0);
    if (idle) return idle;
    if (connections.length < parallelism) {
      const connection: Connection = {
        client: undefined,
        busy: 0,
        ready: Promise.resolve(),
        free: Promise.resolve(),
      };
      // The statements made so far; one made while it connects reaches it in turn, by `everywhere`.
      const replay = [...everywhere];
      connection.ready = pool.connect().then(async (client) => {
        connection.client = client;
        await client.query('set jit = off');
        for (const query of replay) await run(client, query);
      });
      connection.ready.catch(() => undefined);
      connection.free = connection.ready;
      connections.push(connection);
      return connection;
    }
    return connections.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  const { rows: setting } = await sql<{ read_only: string; encoding: string }>`
    select current_setting('transaction_read_only') as read_only,
      current_setting('server_encoding') as encoding`.execute(db);
  // A binary COPY sends text as the server stores it: raw bytes only where that is UTF-8.
  const utf8 = setting[0]?.encoding === 'UTF8';

  /** Runs `use` on `connection` once the queries before it there are done. */
  function inTurn<T>(connection: Connection, use: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const result = connection.free.then(async () => {
      // A failed connect fails every query given to the connection; a failed query, only itself.
      await connection.ready;
      return use(connection.client!);
    });
    connection.free = result.catch(() => undefined);
    return result;
  }

  /** Runs `use` on a connection of the session's own, counted busy meanwhile. */
  async function onConnection<T>(use: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const connection = pick();
    connection.busy++;
    try {
      return await inTurn(connection, use);
    } finally {
      connection.busy--;
    }
  }

  const session: ReadSession = {
    db,
    parallelism,
    inFlight: parallelism + 1,
    readOnly: setting[0]?.read_only === 'on',
    query: (query) => onConnection((client) => run(client, query)),
    queryBytes: (query) =>
      onConnection(async (client) => {
        if (utf8) return copyRows(client, query.sql, query.parameters);
        return rowsAsBytes(await run<Record<string, unknown>>(client, query));
      }),
    async everywhere(query) {
      // Connections started from now on replay it; those started before get it in their turn.
      everywhere.push(query);
      const started = [...connections];
      await db.executeQuery(query);
      await Promise.all(started.map((connection) => inTurn(connection, (client) => run(client, query))));
    },
    // A connection starts in milliseconds, when a query first needs it: connecting them all ahead of
    // an export's first page measured no faster.
    startAll: () => undefined,
  };
  await sql`set jit = off`.execute(db);
  let failed = false;
  try {
    return await work(session);
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    // Connections go back as they were found: no temporary tables, JIT as configured. One the session
    // gave up on mid-query (the work failed) is closed instead, which also ends that query.
    await sql`discard temp`.execute(db).catch(() => undefined);
    await sql`reset jit`.execute(db).catch(() => undefined);
    for (const connection of connections) {
      await connection.ready.catch(() => undefined);
      if (!connection.client) continue;
      const clean =
        !failed &&
        (await connection.client.query('discard temp; reset jit').then(
          () => true,
          () => false,
        ));
      connection.client.release(clean ? undefined : true);
    }
  }
}
