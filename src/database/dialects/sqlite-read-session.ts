/**
 * SQLite's read session. better-sqlite3 runs each query to completion on the calling thread, so a
 * query that makes SQLite encode megabytes of JSON holds one core meanwhile. To use more, the
 * session's queries alternate between its own handle (on the calling thread) and reader threads, each
 * with a handle of its own on the file (WAL lets any number read at once), started when a query finds
 * the others busy; their results come back as transferred buffers, without a copy. A session whose
 * queries never overlap starts no thread at all. No query waits for a thread to start (loading the
 * driver and opening the file take a hundred milliseconds on a busy machine): until one is ready, the
 * session's own handle runs the queries.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../database.types.js';
import { rowsAsBytes, type ReadSession, type ReadSessionOptions } from './read-session.js';

/** Page cache of a session's handles: a long read visits each page once; the OS caches the file. */
const SESSION_CACHE_KIB = 2048;

const DRIVER = createRequire(import.meta.url).resolve('better-sqlite3');

/**
 * What a reader thread runs. Plain CommonJS, so the thread needs no TypeScript loader: it opens its
 * handle, then answers `{id, sql, parameters}` with `{id, rows}` (buffers transferred) or `{id, error}`.
 */
const READER_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.filename, { fileMustExist: true });
db.pragma('busy_timeout = 10000');
db.pragma('cache_size = -' + workerData.cacheKib);
db.pragma('temp_store = MEMORY');
const statements = new Map();
parentPort.on('message', ({ id, sql, parameters }) => {
  try {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    if (!statement.reader) {
      statement.run(...parameters);
      parentPort.postMessage({ id, rows: [] });
      return;
    }
    const rows = statement.all(...parameters);
    const transfer = [];
    for (const row of rows) {
      for (const value of Object.values(row)) {
        if (Buffer.isBuffer(value) && value.byteOffset === 0 && value.byteLength === value.buffer.byteLength)
          transfer.push(value.buffer);
      }
    }
    parentPort.postMessage({ id, rows }, transfer);
  } catch (error) {
    parentPort.postMessage({ id, error: { message: String(error && error.message), code: error && error.code } });
  }
});
`;

type Row = Record<string, unknown>;

/** Buffers arrive as plain Uint8Arrays: give them back Buffer's methods, over the same memory. */
function revive(rows: Row[]): Row[] {
  for (const row of rows) {
    for (const [key, value] of Object.entries(row)) {
      if (value instanceof Uint8Array && !Buffer.isBuffer(value))
        row[key] = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    }
  }
  return rows;
}

class ReaderThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(rows: Row[]): void; reject(error: Error): void }>();
  private nextId = 0;

  constructor(filename: string) {
    this.worker = new Worker(READER_THREAD, {
      eval: true,
      workerData: { driver: DRIVER, filename, cacheKib: SESSION_CACHE_KIB },
    });
    this.worker.on(
      'message',
      (message: { id: number; rows?: Row[]; error?: { message: string; code?: string } }) => {
        const waiting = this.pending.get(message.id);
        if (!waiting) return;
        this.pending.delete(message.id);
        if (message.error) {
          waiting.reject(Object.assign(new Error(message.error.message), { code: message.error.code }));
        } else waiting.resolve(revive(message.rows ?? []));
      },
    );
    const failAll = (error: Error) => {
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', failAll);
    this.worker.on('exit', (code) => failAll(new Error(`a SQLite reader thread exited (code ${code})`)));
  }

  /** Queries sent and not answered yet. */
  get busy(): number {
    return this.pending.size;
  }

  run(query: CompiledQuery): Promise<Row[]> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, sql: query.sql, parameters: query.parameters });
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

/** Runs `work` in a read session on the SQLite file `filename` (see DatabaseDialect.readSession). */
export async function withSqliteReadSession<T>(
  filename: string,
  options: ReadSessionOptions,
  work: (session: ReadSession) => Promise<T>,
): Promise<T> {
  const native = new SqliteDatabase(filename, { fileMustExist: true });
  native.pragma('busy_timeout = 10000');
  native.pragma(`cache_size = -${SESSION_CACHE_KIB}`);
  native.pragma('temp_store = MEMORY');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: native }) });
  /** Ready once the thread has opened the file; broken if a statement of `everywhere` failed on it. */
  const threads: Array<{ thread: ReaderThread; ready: boolean; broken: boolean }> = [];
  const everywhere: CompiledQuery[] = [];
  const parallelism = Math.max(1, Math.floor(options.parallelism));

  /** Runs a statement of `everywhere` on a thread; one that fails there leaves the thread unused. */
  function setUp(started: (typeof threads)[number], query: CompiledQuery): Promise<unknown> {
    const done = started.thread.run(query);
    done.catch(() => (started.broken = true));
    return done;
  }

  function startThread(): void {
    const started = { thread: new ReaderThread(filename), ready: false, broken: false };
    threads.push(started);
    // The thread answers in order: its copies of the session's temporary tables come first, and the
    // no-op after them answers once it has opened the file and made them.
    for (const query of everywhere) setUp(started, query);
    started.thread.run(CompiledQuery.raw('select 1')).then(
      () => (started.ready = true),
      () => undefined,
    );
  }

  /** An idle reader thread that is ready, or undefined: the session's own handle, on this thread. */
  function pick(): ReaderThread | undefined {
    const idle = threads.find(({ thread, ready, broken }) => ready && !broken && thread.busy === 0);
    if (idle) return idle.thread;
    if (threads.length < parallelism - 1) startThread();
    return undefined;
  }

  const session: ReadSession = {
    db,
    parallelism,
    inFlight: parallelism,
    readOnly: false,
    async query<R>(query: CompiledQuery<R>): Promise<R[]> {
      const thread = pick();
      if (!thread) return (await db.executeQuery(query)).rows;
      return (await thread.run(query)) as R[];
    },
    queryBytes: async (query) => rowsAsBytes(await session.query<Record<string, unknown>>(query)),
    async everywhere(query) {
      everywhere.push(query);
      await db.executeQuery(query);
      // A thread still starting gets it in turn, not waited for: no query reaches it before.
      const waited: Array<Promise<unknown>> = [];
      for (const started of threads) {
        if (started.ready) waited.push(started.thread.run(query));
        else setUp(started, query);
      }
      await Promise.all(waited);
    },
    startAll() {
      while (threads.length < parallelism - 1) startThread();
    },
  };
  try {
    return await work(session);
  } finally {
    await Promise.all(threads.map(({ thread }) => thread.close()));
    await db.destroy();
  }
}
