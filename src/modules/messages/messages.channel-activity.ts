/**
 * The channel's last_message_at on databases with row locks (PostgreSQL), moved after a message
 * sent by a transaction (a reply shown in the channel, a message that quotes another) commits rather
 * than inside its transaction; messages stored by the batch statement move it in that statement
 * (messages.dialects.ts, insertMessagesIntoOpenChannels). An UPDATE of the channel row in the message's
 * transaction would hold that row's lock until the commit's WAL flush, so every message into a
 * channel would wait for the flush of the one before it. Here the messages commit side by side
 * (their flushes shared), and the channel rows are then updated by one statement at a time, for
 * every channel sent into meanwhile, which covers every message committed before it started
 * (messages.repository.ts, catchUpLastMessageAt). A send answers only after a run that started after
 * its commit has ended, so the channel read afterwards shows the message's time.
 *
 * The runs go through the dialect's derivedWritesDb: last_message_at is derived from committed
 * messages, so its commit need not wait for a WAL flush of its own (a crash of the database that
 * loses it is put right by the channel's next run, as a crash of this process between the two is).
 * A run that fails does not fail the send, whose message is stored: it is logged and tried again.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DatabaseDialect } from '../../database/database.js';
import type { Database } from '../../database/database.types.js';
import { createBatcher, type Batcher } from '../../lib/batches.js';
import { catchUpLastMessageAt, type ChannelKey } from './messages.dialects.js';

/** Retries of a failed run, after these waits in milliseconds; then the channel's next send puts it right. */
export const CATCH_UP_RETRY_MILLIS = [100, 1000, 10_000];

export interface ChannelActivityDeps {
  /** The dialect's derivedWritesDb. */
  db: Kysely<Database>;
  keepPrepared: DatabaseDialect['keepPrepared'];
  logger: Pick<Logger, 'warn' | 'error'>;
}

interface CatchUp extends ChannelKey {
  deps: ChannelActivityDeps;
  /** Runs of this channel that failed before. */
  attempt: number;
}

/**
 * One run at a time, covering every channel whose sends committed before it started: sends into one
 * channel or many, at once, wait for one statement.
 */
const batchersByDatabase = new WeakMap<Kysely<Database>, Batcher<CatchUp, void>>();

/** Channels one statement moves at most. */
const MAX_CHANNELS_A_RUN = 500;

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
  let batcher = batchersByDatabase.get(deps.db);
  if (!batcher) {
    batcher = createBatcher((runs: CatchUp[]) => catchUp(deps, runs), {
      concurrency: 1,
      maxItems: MAX_CHANNELS_A_RUN,
    });
    batchersByDatabase.set(deps.db, batcher);
  }
  return batcher.submit({ deps, appId, cid, attempt });
}

/**
 * One statement for every channel; should it fail, one a channel, so that only a failing channel is
 * logged and retried (once, however many of its sends wait).
 */
async function catchUp(
  deps: ChannelActivityDeps,
  runs: CatchUp[],
): Promise<Array<PromiseSettledResult<void>>> {
  const channels = new Map(runs.map((run) => [`${run.appId}\u0000${run.cid}`, run]));
  try {
    await catchUpLastMessageAt(deps, [...channels.values()]);
  } catch (error) {
    if (channels.size === 1) retryLater(runs[0]!, error);
    else
      await Promise.all(
        [...channels.values()].map((run) =>
          catchUpLastMessageAt(deps, [run]).catch((error: unknown) => retryLater(run, error)),
        ),
      );
  }
  return runs.map(() => ({ status: 'fulfilled', value: undefined }));
}

function retryLater({ deps, appId, cid, attempt }: CatchUp, error: unknown): void {
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
