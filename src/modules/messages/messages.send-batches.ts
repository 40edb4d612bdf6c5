/**
 * Group commit of sends, on databases with a statement for it (messages.dialects.ts): top-level messages sent at once,
 * into one channel or many, are stored by one statement that reads their users, inserts them and
 * moves their channels' last_message_at, so
 * they share one round trip and one commit (and its WAL flush) instead of paying for them one by
 * one. Each send still gets its own answer: stored, or not stored (the caller's transaction then
 * says why), or the error of its own row, which fails no other send of its batch.
 */
import type { Kysely } from 'kysely';
import type { DatabaseDialect } from '../../database/database.js';
import type { Database, MessageRow, UserRow } from '../../database/database.types.js';
import { createBatcher, type Batcher } from '../../lib/batches.js';
import { storedMessageKey, type GroupedSendStatement, type OpenChannelInsert } from './messages.dialects.js';

/** A top-level message to store if its users exist and its channel takes it. */
export interface BatchedSend extends OpenChannelInsert {
  row: MessageRow;
}

/** The users a stored message names, or undefined when it was not stored. */
type BatchedSendResult = Map<string, UserRow> | undefined;

/**
 * Batches under way at once: one. A batch holds its channels' rows until its commit's WAL flush (it
 * moves their last_message_at), so a second batch into the same channels would only wait for it; and
 * sends that wait for the batch under way go into the next one together: fewer, larger batches cost
 * the database less a message than two at once did.
 */
const CONCURRENT_BATCHES = 1;

/** Messages one statement stores at most. */
const MAX_BATCH = 64;

const batchersByDatabase = new WeakMap<Kysely<Database>, Batcher<BatchedSend, BatchedSendResult>>();

/**
 * Stores the message with whichever others are sent at the same time, by the dialect's `statement`;
 * see the top of this file.
 */
export function storeInBatch(
  dialect: DatabaseDialect,
  statement: GroupedSendStatement,
  send: BatchedSend,
): Promise<BatchedSendResult> {
  let batcher = batchersByDatabase.get(dialect.db);
  if (!batcher) {
    batcher = createBatcher((sends: BatchedSend[]) => storeBatch(dialect, statement, sends), {
      concurrency: CONCURRENT_BATCHES,
      maxItems: MAX_BATCH,
    });
    batchersByDatabase.set(dialect.db, batcher);
  }
  return batcher.submit(send);
}

async function storeBatch(
  dialect: DatabaseDialect,
  statement: GroupedSendStatement,
  sends: BatchedSend[],
): Promise<Array<PromiseSettledResult<BatchedSendResult>>> {
  // A second send of one id waits for the transaction, which finds the id taken if the first stored it.
  const keys = new Set<string>();
  const firsts = sends.filter((send) => {
    const key = storedMessageKey(send.row.app_id, send.row.id);
    if (keys.has(key)) return false;
    keys.add(key);
    return true;
  });
  const stored = await insertEach(dialect, statement, firsts);
  return sends.map((send) => stored.get(send) ?? { status: 'fulfilled', value: undefined });
}

/**
 * Each send's users if it was stored, or the error that refused its own row: when the statement of a
 * batch fails, its sends are stored again one statement each, so that only the failing one fails.
 */
async function insertEach(
  dialect: DatabaseDialect,
  statement: GroupedSendStatement,
  sends: BatchedSend[],
): Promise<Map<BatchedSend, PromiseSettledResult<BatchedSendResult>>> {
  try {
    const { users, stored } = await statement(dialect, sends);
    const found = new Map(users.map((user) => [storedMessageKey(user.app_id, user.id), user]));
    return new Map(
      sends.map((send) => {
        const { app_id: appId, id } = send.row;
        const named = stored.has(storedMessageKey(appId, id))
          ? new Map(send.userIds.map((userId) => [userId, found.get(storedMessageKey(appId, userId))!]))
          : undefined;
        return [send, { status: 'fulfilled', value: named }];
      }),
    );
  } catch (error) {
    if (sends.length === 1) return new Map([[sends[0]!, { status: 'rejected', reason: error }]]);
    const alone = await Promise.all(sends.map((send) => insertEach(dialect, statement, [send])));
    return new Map(alone.flatMap((outcomes) => [...outcomes]));
  }
}
