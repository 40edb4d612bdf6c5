import type { Kysely } from 'kysely';
import type { DatabaseDialect } from '../../database/database.js';
import type { Database, MessageRow } from '../../database/database.types.js';
import { actingUserId, type Caller } from '../../lib/caller.js';
import { inputError, notAllowed, notFound } from '../../lib/errors.js';
import { parseObject, type JsonObject } from '../../lib/json.js';
import { applyPartialUpdate, type PartialUpdate } from '../../lib/partial-update.js';
import type { Clock } from '../../lib/time.js';
import { advanceLastMessageAt, findChannel } from '../channels/channels.repository.js';
import { assertUsersExist } from '../users/users.usecases.js';
import { messageFromInput, newMessageId, renderHtml, type MessageInput } from './messages.models.js';
import {
  adjustReplyCounts,
  findMessage,
  hardDeleteMessages,
  insertMessage,
  lockMessage,
} from './messages.repository.js';
import { messageShape } from './messages.shape.js';

interface Deps {
  db: Kysely<Database>;
  dialect: DatabaseDialect;
  clock: Clock;
}

export interface SendOptions {
  /**
   * The message announces a change made by the same request (`message` on an update or truncation):
   * it is sent even to a frozen channel, as Stream's "X has frozen the channel" is. Default false.
   */
  announcesChannelChange?: boolean;
}

/**
 * Stores a message and counts it (a frozen channel takes none: 403 code 17): a reply adds one to its parent's reply_count, a message the channel
 * shows moves the channel's last_message_at. Both are atomic updates of the newest committed row, made
 * last so their row locks are held only until the commit; each also finds out whether its row is
 * still there, so a message never outlives a channel or parent deleted at the same moment.
 */
export async function sendMessage(
  { dialect, clock }: Deps,
  appId: number,
  caller: Caller,
  cid: string,
  body: JsonObject,
  options: SendOptions = {},
): Promise<MessageRow> {
  const input = messageFromInput(body);
  if (input.type === 'system' && caller.kind !== 'server')
    throw notAllowed('only a server token can send system messages');
  const userId = actingUserId(caller, input.userId, 'message.user_id');
  return dialect.writeTransaction(async (trx) => {
    const channel = await findChannel(trx, appId, cid);
    if (!channel || channel.deleted_at !== null) throw notFound(`channel ${cid} does not exist`);
    if (channel.frozen === 1 && !options.announcesChannelChange)
      throw notAllowed(`channel ${cid} is frozen: it takes no new messages`);
    await assertUsersExist(trx, appId, [userId], 'message.user_id');
    await assertUsersExist(trx, appId, input.mentionedUsers, 'message.mentioned_users');
    if (caller.kind === 'user') {
      const member = await trx
        .selectFrom('members')
        .select('user_id')
        .where('app_id', '=', appId)
        .where('cid', '=', cid)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (!member) throw notAllowed(`user ${userId} is not a member of ${cid}`);
    }
    const id = input.id ?? newMessageId();
    if (await findMessage(trx, appId, id))
      throw inputError('message.id', `a message with id ${id} already exists`);
    if (input.parentId !== undefined) {
      const parent = await findMessage(trx, appId, input.parentId);
      if (!parent || parent.cid !== cid)
        throw inputError('message.parent_id', `message ${input.parentId} is not in ${cid}`);
      if (parent.parent_id !== null)
        throw inputError('message.parent_id', 'a reply cannot have replies of its own');
    }
    if (input.quotedMessageId !== undefined) {
      const quoted = await findMessage(trx, appId, input.quotedMessageId);
      if (!quoted || quoted.cid !== cid) {
        throw inputError('message.quoted_message_id', `message ${input.quotedMessageId} is not in ${cid}`);
      }
    }
    const now = clock.nowMicros();
    const row: MessageRow = {
      app_id: appId,
      id,
      cid,
      user_id: userId,
      type: input.parentId !== undefined ? 'reply' : (input.type ?? 'regular'),
      text: input.text,
      html: renderHtml(input.text),
      parent_id: input.parentId ?? null,
      show_in_channel: input.parentId !== undefined && input.showInChannel ? 1 : 0,
      quoted_message_id: input.quotedMessageId ?? null,
      attachments: JSON.stringify(input.attachments),
      mentioned_users: JSON.stringify(input.mentionedUsers),
      custom: JSON.stringify(input.custom),
      reply_count: 0,
      reaction_counts: '{}',
      reaction_scores: '{}',
      pinned: input.pinned ? 1 : 0,
      silent: input.silent ? 1 : 0,
      created_at: now,
      updated_at: now,
      deleted_at: null,
    };
    await insertMessage(trx, row);
    // The channel before the parent: every transaction that locks both takes them in this order.
    if (row.parent_id === null || row.show_in_channel === 1) {
      if (!(await advanceLastMessageAt(trx, appId, cid, now)))
        throw notFound(`channel ${cid} does not exist`);
    }
    if (row.parent_id !== null) {
      if ((await adjustReplyCounts(trx, appId, new Map([[row.parent_id, 1]]))) !== 1) {
        throw inputError('message.parent_id', `message ${row.parent_id} does not exist`);
      }
    }
    return row;
  });
}

/** The message, which the caller may change: any for a server token, only their own for a user token. */
async function ownedMessage(
  db: Kysely<Database>,
  appId: number,
  caller: Caller,
  id: string,
  lock = false,
): Promise<MessageRow> {
  const message = await lockMessage(db, appId, id, lock);
  if (!message) throw notFound(`message ${id} does not exist`);
  if (caller.kind === 'user' && message.user_id !== caller.userId) {
    throw notAllowed(`user ${caller.userId} can only change their own messages`);
  }
  return message;
}

/** The editable fields of a message, as they are after an update; id, channel, thread and author stay. */
function editedFields(input: MessageInput): Partial<MessageRow> {
  return {
    text: input.text,
    html: renderHtml(input.text),
    attachments: JSON.stringify(input.attachments),
    mentioned_users: JSON.stringify(input.mentionedUsers),
    custom: JSON.stringify(input.custom),
    pinned: input.pinned ? 1 : 0,
    silent: input.silent ? 1 : 0,
  };
}

async function saveEdit(
  { db, clock }: Deps,
  appId: number,
  message: MessageRow,
  changes: Partial<MessageRow>,
): Promise<MessageRow> {
  const updated = { ...message, ...changes, updated_at: clock.nowMicros() };
  await db
    .updateTable('messages')
    .set({ ...changes, updated_at: updated.updated_at })
    .where('app_id', '=', appId)
    .where('id', '=', message.id)
    .execute();
  return updated;
}

/** `POST /messages/{id}`: replaces the message's content (Stream's full update). */
export async function updateMessage(
  deps: Deps,
  appId: number,
  caller: Caller,
  id: string,
  body: JsonObject,
): Promise<MessageRow> {
  const input = messageFromInput(body);
  if (input.id !== undefined && input.id !== id)
    throw inputError('message.id', 'does not match the message in the path');
  return deps.dialect.writeTransaction(async (trx) => {
    const message = await ownedMessage(trx, appId, caller, id);
    if (input.userId !== undefined && input.userId !== message.user_id) {
      throw inputError('message.user_id', 'cannot change the author of a message');
    }
    await assertUsersExist(trx, appId, input.mentionedUsers, 'message.mentioned_users');
    return saveEdit({ ...deps, db: trx }, appId, message, editedFields(input));
  });
}

/** Message fields a partial update may change; the others are fixed or computed. */
const EDITABLE_FIELDS = ['text', 'attachments', 'mentioned_users', 'pinned', 'silent'];

/**
 * `PUT /messages/{id}`: a partial update (lib/partial-update.ts). The editable fields may be set and
 * unset; every other field merges into the custom data; other known fields are refused.
 */
export async function partialUpdateMessage(
  deps: Deps,
  appId: number,
  caller: Caller,
  id: string,
  update: PartialUpdate,
): Promise<MessageRow> {
  return deps.dialect.writeTransaction(async (trx) => {
    // Locked before it is read, so that parallel partial updates apply one after the other.
    const message = await ownedMessage(trx, appId, caller, id, deps.dialect.rowLocks);
    const applied = applyPartialUpdate(parseObject(message.custom), update, messageShape.known);
    const edited: JsonObject = {
      text: message.text,
      attachments: JSON.parse(message.attachments),
      mentioned_users: JSON.parse(message.mentioned_users),
      pinned: message.pinned === 1,
      silent: message.silent === 1,
    };
    for (const key of applied.unset) {
      if (!EDITABLE_FIELDS.includes(key)) throw inputError(`unset.${key}`, 'cannot be unset');
      delete edited[key];
    }
    for (const [key, value] of Object.entries(applied.set)) {
      if (!EDITABLE_FIELDS.includes(key)) throw inputError(`set.${key}`, 'cannot be changed');
      edited[key] = value;
    }
    const input = messageFromInput({ ...edited, custom: applied.custom }, 'set');
    await assertUsersExist(trx, appId, input.mentionedUsers, 'set.mentioned_users');
    return saveEdit({ ...deps, db: trx }, appId, message, editedFields(input));
  });
}

/**
 * Soft delete keeps the message as type `deleted` with `deleted_at` (exports may still carry it); hard
 * delete removes it, its replies and its reactions for good.
 */
export async function deleteMessage(
  { dialect, clock }: Deps,
  appId: number,
  caller: Caller,
  id: string,
  hard: boolean,
): Promise<MessageRow> {
  return dialect.writeTransaction(async (trx) => {
    const message = await ownedMessage(trx, appId, caller, id);
    const now = clock.nowMicros();
    const deleted = { ...message, deleted_at: message.deleted_at ?? now, updated_at: now };
    if (hard) {
      await hardDeleteMessages(trx, appId, [id], dialect.rowLocks);
    } else {
      await trx
        .updateTable('messages')
        .set({ deleted_at: deleted.deleted_at, updated_at: now })
        .where('app_id', '=', appId)
        .where('id', '=', id)
        .execute();
    }
    return deleted;
  });
}

export async function undeleteMessage(
  { dialect, clock }: Deps,
  appId: number,
  id: string,
  undeletedBy: string | undefined,
): Promise<MessageRow> {
  return dialect.writeTransaction(async (trx) => {
    const message = await findMessage(trx, appId, id);
    if (!message) throw notFound(`message ${id} does not exist`);
    if (message.deleted_at === null) throw inputError('message_id', `message ${id} is not deleted`);
    if (undeletedBy !== undefined) await assertUsersExist(trx, appId, [undeletedBy], 'undeleted_by');
    const now = clock.nowMicros();
    await trx
      .updateTable('messages')
      .set({ deleted_at: null, updated_at: now })
      .where('app_id', '=', appId)
      .where('id', '=', id)
      .execute();
    return { ...message, deleted_at: null, updated_at: now };
  });
}

export async function getMessage(db: Kysely<Database>, appId: number, id: string): Promise<MessageRow> {
  const message = await findMessage(db, appId, id);
  if (!message) throw notFound(`message ${id} does not exist`);
  return message;
}
