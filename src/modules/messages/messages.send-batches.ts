/**
 * Group commit of sends on databases with row locks (PostgreSQL): top-level messages sent at once,
 * into one channel or many, are stored by one users' read and one INSERT ... SELECT, so they share
 * two round trips and one commit (and its WAL flush) instead of paying for them one by one. Each send
 * still gets its own answer: stored, or not stored (the caller's transaction then says why), or the
 * error of its own row, which fails no other send of its batch.
 */
import type { Kysely } from 'kysely';
import type { Database, MessageRow, UserRow } from '../../database/database.types.js';
import { createBatcher, type Batcher } from '../../lib/batches.js';
import { findUsersByIds } from '../users/users.repository.js';
import {
  insertMessagesIntoOpenChannels,
  storedMessageKey,
  type OpenChannelInsert,
} from './messages.repository.js';

/** A top-level message to store if its users exist and its channel takes it. */
export interface BatchedSend extends OpenChannelInsert {
  row: MessageRow;
  /** Its author first, then the users it mentions. */
  userIds: string[];
}

/** The users a stored message names, or undefined when it was not stored. */
type BatchedSendResult = Map<string, UserRow> | undefined;

/**
 * Batches under way at once: each holds one pooled connection at a time, so the pool keeps
 * connections for everything else.
 */
const CONCURRENT_BATCHES = 4;

/** Messages one statement stores at most. */
const MAX_BATCH = 64;

const batchersByDatabase = new WeakMap<Kysely<Database>, Batcher<BatchedSend, BatchedSendResult>>();

/** Stores the message with whichever others are sent at the same time; see the top of this file. */
export function storeInBatch(db: Kysely<Database>, send: BatchedSend): Promise<BatchedSendResult> {
  let batcher = batchersByDatabase.get(db);
  if (!batcher) {
    batcher = createBatcher((sends: BatchedSend[]) => storeBatch(db, sends), {
      concurrency: CONCURRENT_BATCHES,
      maxItems: MAX_BATCH,
    });
    batchersByDatabase.set(db, batcher);
  }
  return batcher.submit(send);
}

async function storeBatch(
  db: Kysely<Database>,
  sends: BatchedSend[],
): Promise<Array<PromiseSettledResult<BatchedSendResult>>> {
  const idsByApp = new Map<number, string[]>();
  for (const { row, userIds } of sends)
    idsByApp.set(row.app_id, [...(idsByApp.get(row.app_id) ?? []), ...userIds]);
  const usersByApp = new Map<number, Map<string, UserRow>>();
  for (const [appId, ids] of idsByApp) usersByApp.set(appId, await findUsersByIds(db, appId, ids));

  const usersOf = new Map<BatchedSend, Map<string, UserRow>>();
  const keys = new Set<string>();
  for (const send of sends) {
    const found = usersByApp.get(send.row.app_id)!;
    const key = storedMessageKey(send.row.app_id, send.row.id);
    // A second send of one id waits for the transaction, which finds the id taken if the first stored it.
    if (!send.userIds.every((id) => found.has(id)) || keys.has(key)) continue;
    keys.add(key);
    usersOf.set(send, new Map(send.userIds.map((id) => [id, found.get(id)!])));
  }
  const stored = await insertEach(db, [...usersOf.keys()]);
  return sends.map((send) => {
    const users = usersOf.get(send);
    const outcome = users && stored.get(send)!;
    if (outcome?.status === 'rejected') return outcome;
    return { status: 'fulfilled', value: outcome?.value ? users : undefined };
  });
}

/**
 * Whether each send was stored, or the error that refused its own row: when the statement of a batch
 * fails, its sends are stored again one statement each, so that only the failing one fails.
 */
async function insertEach(
  db: Kysely<Database>,
  sends: BatchedSend[],
): Promise<Map<BatchedSend, PromiseSettledResult<boolean>>> {
  try {
    const inserted = await insertMessagesIntoOpenChannels(db, sends, true);
    return new Map(
      sends.map((send) => {
        const stored = inserted.has(storedMessageKey(send.row.app_id, send.row.id));
        return [send, { status: 'fulfilled', value: stored }];
      }),
    );
  } catch (error) {
    if (sends.length === 1) return new Map([[sends[0]!, { status: 'rejected', reason: error }]]);
    const alone = await Promise.all(sends.map((send) => insertEach(db, [send])));
    return new Map(alone.flatMap((outcomes) => [...outcomes]));
  }
}
