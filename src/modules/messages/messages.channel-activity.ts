/**
 * The channel's last_message_at on databases with row locks (PostgreSQL), moved after a message
 * commits rather than inside its transaction. An UPDATE of the channel row in the message's
 * transaction would hold that row's lock until the commit's WAL flush, so every message into a
 * channel would wait for the flush of the one before it. Here the messages commit side by side
 * (their flushes shared), and the channel row is then updated by one statement per channel at a time,
 * which covers every message committed before it started (messages.repository.ts,
 * catchUpLastMessageAt). A send answers only after a run that started after its commit has ended, so
 * the channel read afterwards shows the message's time.
 *
 * The runs go through the dialect's derivedWritesDb: last_message_at is derived from committed
 * messages, so its commit need not wait for a WAL flush of its own (a crash of the database that
 * loses it is put right by the channel's next run, as a crash of this process between the two is).
 * A run that fails does not fail the send, whose message is stored: it is logged and tried again.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../../database/database.types.js';
import { catchUpLastMessageAt } from './messages.repository.js';

interface ChannelRuns {
  /** The run under way, if any. */
  running: Promise<void> | undefined;
  /** The run that starts when `running` ends: every caller arriving meanwhile joins it. */
  waiting: Promise<void> | undefined;
}

const runsByDatabase = new WeakMap<Kysely<Database>, Map<string, ChannelRuns>>();

const ignore = () => {};

/** Retries of a failed run, after these waits in milliseconds; then the channel's next send puts it right. */
export const CATCH_UP_RETRY_MILLIS = [100, 1000, 10_000];

export interface ChannelActivityDeps {
  /** The dialect's derivedWritesDb. */
  db: Kysely<Database>;
  logger: Pick<Logger, 'warn' | 'error'>;
}

/**
 * Moves the channel's last_message_at forward past every message committed before this call.
 * Never rejects: a failed run is logged and retried in the background.
 */
export function advanceLastMessageAtAfterCommit(
  deps: ChannelActivityDeps,
  appId: number,
  cid: string,
  attempt = 0,
): Promise<void> {
  const { db } = deps;
  let channels = runsByDatabase.get(db);
  if (!channels) runsByDatabase.set(db, (channels = new Map()));
  const key = `${appId}\u0000${cid}`;
  let runs = channels.get(key);
  if (runs?.waiting) return runs.waiting;
  if (!runs) channels.set(key, (runs = { running: undefined, waiting: undefined }));
  const state = runs;
  const previous = state.running ?? Promise.resolve();
  const run: Promise<void> = previous
    .then(ignore, ignore)
    .then(() => {
      // From here on this run may miss a commit: later callers wait for the next one.
      state.waiting = undefined;
      state.running = run;
      return catchUpLastMessageAt(db, appId, cid);
    })
    .catch((error: unknown) => retryLater(deps, appId, cid, attempt, error))
    .finally(() => {
      if (state.running === run) state.running = undefined;
      if (state.running === undefined && state.waiting === undefined) channels.delete(key);
    });
  state.waiting = run;
  return run;
}

function retryLater(
  deps: ChannelActivityDeps,
  appId: number,
  cid: string,
  attempt: number,
  error: unknown,
): void {
  const wait = CATCH_UP_RETRY_MILLIS[attempt];
  if (wait === undefined) {
    deps.logger.error(
      { err: error, appId, cid },
      "last_message_at not moved after a send; the channel's next message moves it",
    );
    return;
  }
  deps.logger.warn(
    { err: error, appId, cid, retryInMillis: wait },
    'last_message_at not moved after a send (the message is stored); trying again',
  );
  const timer = setTimeout(() => {
    void advanceLastMessageAtAfterCommit(deps, appId, cid, attempt + 1);
  }, wait);
  // A retry pending must not keep a stopping process alive.
  timer.unref();
}
