import type { Kysely } from 'kysely';
import type { DatabaseDialect } from '../../database/database.js';
import type { Database, MessageRow, ReactionRow } from '../../database/database.types.js';
import { actingUserId, type Caller } from '../../lib/caller.js';
import { inputError, notAllowed, notFound } from '../../lib/errors.js';
import { findChannel } from '../channels/channels.repository.js';
import { isPlainObject, splitCustom, type JsonObject } from '../../lib/json.js';
import type { Clock } from '../../lib/time.js';
import { findMessage, lockMessage } from '../messages/messages.repository.js';
import { userIdOf } from '../messages/messages.models.js';
import { assertUsersExist } from '../users/users.usecases.js';
import { REACTION_TYPE_PATTERN, reactionShape } from './reactions.shape.js';
import {
  deleteReactionsOfUserOn,
  findReaction,
  saveReactionSummary,
  upsertReaction,
} from './reactions.repository.js';
import { parseReactionSummary, tallyReaction } from './reactions.summary.js';

interface Deps {
  db: Kysely<Database>;
  dialect: DatabaseDialect;
  clock: Clock;
}

/** Scores are stored as 32-bit integers on both databases. */
const MAX_SCORE = 2_147_483_647;

async function liveMessage(db: Kysely<Database>, appId: number, id: string): Promise<MessageRow> {
  const message = await findMessage(db, appId, id);
  if (!message) throw notFound(`message ${id} does not exist`);
  return message;
}

/**
 * The message whose reactions are about to change (refused in a frozen channel), locked until the commit: every writer of a
 * message's reactions takes this lock before reading anything it changes, so the summary on the row is
 * exact when read and each writer adds its own changes to it.
 */
async function lockedMessage(
  trx: Kysely<Database>,
  dialect: DatabaseDialect,
  appId: number,
  id: string,
): Promise<MessageRow> {
  const message = await lockMessage(trx, appId, id, dialect.rowLocks);
  if (!message) throw notFound(`message ${id} does not exist`);
  // As Stream: reactions in a frozen channel are neither added nor removed (403 code 17).
  const channel = await findChannel(trx, appId, message.cid);
  if (channel?.frozen === 1) throw notAllowed(`channel ${message.cid} is frozen`);
  return message;
}

/**
 * Adds a reaction, or updates the user's reaction of the same type. With `enforce_unique` the user's
 * other reactions on the message are removed, so each user keeps one. The message's counts and scores
 * change by exactly what this call added and removed.
 */
export async function sendReaction(
  { dialect, clock }: Deps,
  appId: number,
  caller: Caller,
  messageId: string,
  reaction: JsonObject,
  enforceUnique: boolean,
): Promise<{ message: MessageRow; reaction: ReactionRow }> {
  const type = reaction.type;
  if (typeof type !== 'string' || !REACTION_TYPE_PATTERN.test(type)) {
    throw inputError('reaction.type', 'must be 1 to 64 letters, digits or _ - . : + @, and not __proto__');
  }
  const score = reaction.score ?? 1;
  if (typeof score !== 'number' || !Number.isInteger(score) || score < 0 || score > MAX_SCORE) {
    throw inputError('reaction.score', `must be an integer from 0 to ${MAX_SCORE}`);
  }
  const userId = actingUserId(caller, userIdOf(reaction, 'reaction'), 'reaction.user_id');
  const { custom } = splitCustom(reaction, reactionShape.known);
  if (isPlainObject(reaction.custom)) Object.assign(custom, reaction.custom);
  return dialect.writeTransaction(async (trx) => {
    await assertUsersExist(trx, appId, [userId], 'reaction.user_id');
    const message = await lockedMessage(trx, dialect, appId, messageId);
    if (message.deleted_at !== null) throw inputError('message_id', `message ${messageId} is deleted`);
    const summary = parseReactionSummary(message);
    if (enforceUnique) {
      const others = await deleteReactionsOfUserOn(trx, appId, { messageId, userId }, { type, equal: false });
      for (const other of others) tallyReaction(summary, other, -1);
    }
    // Read after the lock: a reaction read in the locking statement would come from the snapshot
    // taken before it waited for the writer ahead of it.
    const existing = await findReaction(trx, appId, { messageId, userId, type });
    if (existing) tallyReaction(summary, existing, -1);
    const now = clock.nowMicros();
    const row: ReactionRow = {
      app_id: appId,
      message_id: messageId,
      user_id: userId,
      type,
      score,
      custom: JSON.stringify(custom),
      created_at: existing?.created_at ?? now,
      updated_at: now,
    };
    await upsertReaction(trx, row);
    tallyReaction(summary, row, 1);
    const stored = await saveReactionSummary(trx, appId, messageId, summary);
    return { message: { ...message, ...stored }, reaction: row };
  });
}

export async function deleteReaction(
  { dialect }: Deps,
  appId: number,
  caller: Caller,
  messageId: string,
  type: string,
  namedUserId: string | undefined,
): Promise<{ message: MessageRow; reaction: ReactionRow }> {
  const userId = actingUserId(caller, namedUserId, 'user_id');
  return dialect.writeTransaction(async (trx) => {
    const message = await lockedMessage(trx, dialect, appId, messageId);
    const [removed] = await deleteReactionsOfUserOn(trx, appId, { messageId, userId }, { type, equal: true });
    if (!removed) throw notFound(`reaction ${type} of user ${userId} on message ${messageId} does not exist`);
    const summary = parseReactionSummary(message);
    tallyReaction(summary, removed, -1);
    const stored = await saveReactionSummary(trx, appId, messageId, summary);
    return { message: { ...message, ...stored }, reaction: removed };
  });
}

/** `GET /messages/{id}/reactions`: newest first, with limit (≤300) and offset. */
export async function listReactions(
  db: Kysely<Database>,
  appId: number,
  messageId: string,
  limit: number,
  offset: number,
): Promise<ReactionRow[]> {
  await liveMessage(db, appId, messageId);
  return db
    .selectFrom('reactions')
    .selectAll()
    .where('app_id', '=', appId)
    .where('message_id', '=', messageId)
    .orderBy('created_at', 'desc')
    .orderBy('user_id')
    .orderBy('type')
    .limit(limit)
    .offset(offset)
    .execute();
}
