import type { Kysely } from 'kysely';
import type { Database, MessageRow, ReactionRow } from '../../database/database.types.js';
import { actingUserId, type Caller } from '../../lib/caller.js';
import { inputError, notFound } from '../../lib/errors.js';
import { isPlainObject, splitCustom, type JsonObject } from '../../lib/json.js';
import type { Clock } from '../../lib/time.js';
import { findMessage } from '../messages/messages.repository.js';
import { userIdOf } from '../messages/messages.models.js';
import { assertUsersExist } from '../users/users.usecases.js';
import { reactionShape } from './reactions.shape.js';
import { findReaction, refreshReactionSummaries } from './reactions.repository.js';

interface Deps {
  db: Kysely<Database>;
  clock: Clock;
}

/** Scores are stored as 32-bit integers on both databases. */
const MAX_SCORE = 2_147_483_647;

/** Not `__proto__`: a type is a key of `reaction_counts`, where JavaScript would drop that one. */
export const REACTION_TYPE_PATTERN = /^(?!__proto__$)[\w@.:+-]{1,64}$/;

async function liveMessage(db: Kysely<Database>, appId: number, id: string): Promise<MessageRow> {
  const message = await findMessage(db, appId, id);
  if (!message) throw notFound(`message ${id} does not exist`);
  return message;
}

/**
 * Adds a reaction, or updates the user's reaction of the same type. With `enforce_unique` the user's
 * other reactions on the message are removed, so each user keeps one. Counts and scores on the message
 * are recomputed from the reactions in the same transaction.
 */
export async function sendReaction(
  { db, clock }: Deps,
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
  return db.transaction().execute(async (trx) => {
    const message = await liveMessage(trx, appId, messageId);
    if (message.deleted_at !== null) throw inputError('message_id', `message ${messageId} is deleted`);
    await assertUsersExist(trx, appId, [userId], 'reaction.user_id');
    if (enforceUnique) {
      await trx
        .deleteFrom('reactions')
        .where('app_id', '=', appId)
        .where('message_id', '=', messageId)
        .where('user_id', '=', userId)
        .where('type', '<>', type)
        .execute();
    }
    const now = clock.nowMicros();
    const existing = await findReaction(trx, appId, { messageId, userId, type });
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
    await trx
      .insertInto('reactions')
      .values(row)
      .onConflict((oc) =>
        oc
          .columns(['app_id', 'message_id', 'user_id', 'type'])
          .doUpdateSet({ score: row.score, custom: row.custom, updated_at: row.updated_at }),
      )
      .execute();
    await refreshReactionSummaries(trx, appId, [messageId]);
    return { message: await liveMessage(trx, appId, messageId), reaction: row };
  });
}

export async function deleteReaction(
  { db }: Deps,
  appId: number,
  caller: Caller,
  messageId: string,
  type: string,
  namedUserId: string | undefined,
): Promise<{ message: MessageRow; reaction: ReactionRow }> {
  const userId = actingUserId(caller, namedUserId, 'user_id');
  return db.transaction().execute(async (trx) => {
    await liveMessage(trx, appId, messageId);
    const existing = await findReaction(trx, appId, { messageId, userId, type });
    if (!existing)
      throw notFound(`reaction ${type} of user ${userId} on message ${messageId} does not exist`);
    await trx
      .deleteFrom('reactions')
      .where('app_id', '=', appId)
      .where('message_id', '=', messageId)
      .where('user_id', '=', userId)
      .where('type', '=', type)
      .execute();
    await refreshReactionSummaries(trx, appId, [messageId]);
    return { message: await liveMessage(trx, appId, messageId), reaction: existing };
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
