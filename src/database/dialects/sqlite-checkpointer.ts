/**
 * WAL checkpoints off the event loop. SQLite checkpoints in the connection whose commit pushes the
 * WAL past `wal_autocheckpoint` pages (1,000 by default): that commit copies the WAL back into the
 * database file and fsyncs both, and better-sqlite3 runs it on the calling thread, so every request
 * of the process waits for the disk meanwhile. Here the process's own handle checkpoints only as a
 * backstop (BACKSTOP_PAGES), and a thread with a handle of its own runs PASSIVE checkpoints (which
 * neither wait for nor block writers and readers) after every CHECKPOINT_EVERY_COMMITS write
 * transactions, one at a time. The thread starts with the first checkpoint a process asks for, so a
 * process that writes little never starts it.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SqliteDatabase from 'better-sqlite3';

/** Write transactions between two checkpoints the thread is asked for. */
const CHECKPOINT_EVERY_COMMITS = 100;

/**
 * The handle's own wal_autocheckpoint: about 80 MB of WAL, reached only if the thread falls far
 * behind (or cannot start), so the WAL never grows without bound.
 */
const BACKSTOP_PAGES = 20_000;

const DRIVER = createRequire(import.meta.url).resolve('better-sqlite3');

/** What the thread runs (plain CommonJS, as the reader threads): a PASSIVE checkpoint per message. */
const CHECKPOINT_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.filename, { fileMustExist: true });
db.pragma('busy_timeout = 10000');
parentPort.on('message', () => {
  let error;
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (failure) {
    error = String(failure && failure.message);
  }
  parentPort.postMessage({ error });
});
`;

export interface SqliteCheckpointer {
  /** Counts a committed write transaction; asks the thread for a checkpoint every so many. */
  committed(): void;
  /** Resolves when no checkpoint is running (tests). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Moves `native`'s checkpoints to a thread with its own handle on `filename` (see above). */
export function createSqliteCheckpointer(
  native: SqliteDatabase.Database,
  filename: string,
): SqliteCheckpointer {
  native.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  let worker: Worker | undefined;
  let commits = 0;
  let running: { done: Promise<void>; resolve(): void } | undefined;
  let closed = false;

  function start(): Worker {
    const thread = new Worker(CHECKPOINT_THREAD, {
      eval: true,
      workerData: { driver: DRIVER, filename },
    });
    thread.on('message', () => finish());
    // A thread that fails leaves the backstop to checkpoint; the next request starts a new one.
    const forget = () => {
      if (worker === thread) worker = undefined;
      finish();
    };
    thread.on('error', forget);
    thread.on('exit', forget);
    // Checkpoints never keep a stopping process alive.
    thread.unref();
    return thread;
  }

  function finish(): void {
    const done = running;
    running = undefined;
    done?.resolve();
  }

  return {
    committed() {
      commits++;
      if (closed || running || commits < CHECKPOINT_EVERY_COMMITS) return;
      commits = 0;
      worker ??= start();
      let resolve!: () => void;
      const done = new Promise<void>((r) => (resolve = r));
      running = { done, resolve };
      worker.postMessage('checkpoint');
    },
    async idle() {
      await running?.done;
    },
    async close() {
      closed = true;
      const thread = worker;
      worker = undefined;
      if (thread) await thread.terminate();
      finish();
    },
  };
}
