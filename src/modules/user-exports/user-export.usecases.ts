import type { Kysely } from 'kysely';
import type { Database, MessageRow, ReactionRow } from '../../database/database.types.js';
import { ApiError, notFound } from '../../lib/errors.js';
import { unique } from '../../lib/ids.js';
import type { JsonObject } from '../../lib/json.js';
import { formatMicros } from '../../lib/time.js';
import { mutesOfUser } from '../channels/channels.mutes.js';
import { presentChannelMutes } from '../channels/channels.presenter.js';
import { findChannelsByCids } from '../channels/channels.repository.js';
import type { ApiForm } from '../../lib/shapes/shape.js';
import { presentMessages } from '../messages/messages.presenter.js';
import { presentReaction } from '../reactions/reactions.presenter.js';
import { presentUser, userLookup } from '../users/users.presenter.js';
import { findUser } from '../users/users.repository.js';

/** Stream's limit for the synchronous user export, on messages and on reactions alike. */
export const SYNC_USER_EXPORT_LIMIT = 10_000;

/** A user's messages, oldest first, every channel, thread replies included. */
export async function messagesOfUser(
  db: Kysely<Database>,
  appId: number,
  userId: string,
  limit?: number,
): Promise<MessageRow[]> {
  let query = db
    .selectFrom('messages')
    .selectAll()
    .where('app_id', '=', appId)
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .orderBy('id');
  if (limit !== undefined) query = query.limit(limit);
  return query.execute();
}

export async function reactionsOfUser(
  db: Kysely<Database>,
  appId: number,
  userId: string,
  limit?: number,
): Promise<ReactionRow[]> {
  let query = db
    .selectFrom('reactions')
    .selectAll()
    .where('app_id', '=', appId)
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .orderBy('message_id')
    .orderBy('type');
  if (limit !== undefined) query = query.limit(limit);
  return query.execute();
}

/** `channel_deleted_at` on each message whose channel is soft-deleted: the data-protection marking. */
export async function markMessagesInDeletedChannels(
  db: Kysely<Database>,
  appId: number,
  rows: MessageRow[],
  presented: JsonObject[],
): Promise<void> {
  const channels = await findChannelsByCids(db, appId, unique(rows.map((r) => r.cid)));
  rows.forEach((row, index) => {
    const deletedAt = channels.get(row.cid)?.deleted_at;
    if (deletedAt !== null && deletedAt !== undefined)
      presented[index]!.channel_deleted_at = formatMicros(deletedAt);
  });
}

/**
 * `GET /users/{id}/export`: the user with every custom field, every message they wrote, every
 * reaction they gave and every channel mute they hold (expired ones too: everything stored). Refused (400 code 4) past 10,000 messages or reactions, as Stream does; the
 * asynchronous `POST /export/users` has no limit.
 */
export async function exportUserSync(
  db: Kysely<Database>,
  appId: number,
  userId: string,
  form: ApiForm,
): Promise<{
  user: JsonObject;
  messages: JsonObject[];
  reactions: JsonObject[];
  channel_mutes: JsonObject[];
}> {
  const user = await findUser(db, appId, userId);
  if (!user) throw notFound(`user ${userId} does not exist`);
  const messages = await messagesOfUser(db, appId, userId, SYNC_USER_EXPORT_LIMIT + 1);
  const reactions = await reactionsOfUser(db, appId, userId, SYNC_USER_EXPORT_LIMIT + 1);
  for (const [what, rows] of [
    ['messages', messages],
    ['reactions', reactions],
  ] as const) {
    if (rows.length > SYNC_USER_EXPORT_LIMIT) {
      throw new ApiError(
        'inputError',
        `user ${userId} has more than ${SYNC_USER_EXPORT_LIMIT} ${what}, too many for a synchronous export; ` +
          'use the asynchronous export, POST /export/users, which has no limit',
        { user_id: `has more than ${SYNC_USER_EXPORT_LIMIT} ${what}` },
      );
    }
  }
  const presented = await presentMessages(db, appId, messages, { form });
  await markMessagesInDeletedChannels(db, appId, messages, presented);
  const reactor = userLookup(new Map([[user.id, user]]), form);
  return {
    user: presentUser(user, form),
    messages: presented,
    reactions: reactions.map((r) => presentReaction(r, reactor, form)),
    channel_mutes: await presentChannelMutes(db, appId, await mutesOfUser(db, appId, userId), form),
  };
}
