/**
 * The channel's last_message_at on databases with row locks (PostgreSQL), moved after a message
 * commits rather than inside its transaction. An UPDATE of the channel row in the message's
 * transaction would hold that row's lock until the commit's WAL flush, so every message into a
 * channel would wait for the flush of the one before it. Here the messages commit side by side
 * (their flushes shared), and the channel row is then updated by one statement per channel at a time,
 * which covers every message committed before it started (messages.repository.ts,
 * catchUpLastMessageAt). A send answers only after a run that started after its commit has ended, so
 * the channel read afterwards shows the message's time.
 */
import type { Kysely } from 'kysely';
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

/** Moves the channel's last_message_at forward past every message committed before this call. */
export function advanceLastMessageAtAfterCommit(
  db: Kysely<Database>,
  appId: number,
  cid: string,
): Promise<void> {
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
    .finally(() => {
      if (state.running === run) state.running = undefined;
      if (state.running === undefined && state.waiting === undefined) channels.delete(key);
    });
  state.waiting = run;
  return run;
}
