import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DatabaseDialect } from '../../database/database.js';
import type { Database, MessageRow, UserRow } from '../../database/database.types.js';
import { actingUserId, type Caller } from '../../lib/caller.js';
import { inputError, notAllowed, notFound } from '../../lib/errors.js';
import { unique } from '../../lib/ids.js';
import { parseObject, type JsonObject } from '../../lib/json.js';
import { applyPartialUpdate, type PartialUpdate } from '../../lib/partial-update.js';
import type { Clock } from '../../lib/time.js';
import { advanceLastMessageAt, findChannel } from '../channels/channels.repository.js';
import { findUsersByIds } from '../users/users.repository.js';
import { assertUsersExist } from '../users/users.usecases.js';
import { advanceLastMessageAtAfterCommit } from './messages.channel-activity.js';
import { messageFromInput, newMessageId, renderHtml, type MessageInput } from './messages.models.js';
import {
  adjustReplyCounts,
  findMessage,
  hardDeleteMessages,
  insertMessageIfAbsent,
  lockMessage,
} from './messages.repository.js';
import { groupedSendStatements, type GroupedSendStatement } from './messages.dialects.js';
import { storeInBatch } from './messages.send-batches.js';
import { messageShape } from './messages.shape.js';

interface Deps {
  db: Kysely<Database>;
  dialect: DatabaseDialect;
  clock: Clock;
}

/** A send also logs a channel whose last_message_at could not be moved after the commit. */
interface SendDeps extends Deps {
  logger: Pick<Logger, 'warn' | 'error'>;
}

export interface SendOptions {
  /**
   * The message announces a change made by the same request (`message` on an update or truncation):
   * it is sent even to a frozen channel, as Stream's "X has frozen the channel" is. Default false.
   */
  announcesChannelChange?: boolean;
}

/** A stored message with the users it names (author and mentions), read while it was checked. */
export interface StoredMessage {
  row: MessageRow;
  users: Map<string, UserRow>;
}

/**
 * Stores a message and counts it (a frozen channel takes none: 403 code 17): a reply adds one to its
 * parent's reply_count, a message the channel shows moves the channel's last_message_at. The reply count is an atomic update of the newest
 * committed row, made last so its row lock is held only until the commit, and it finds out whether the
 * parent is still there. The channel row is share-locked (PostgreSQL `FOR KEY SHARE`) rather than
 * updated: it keeps the channel from being deleted under the message, yet lets messages into one
 * channel commit side by side; last_message_at then moves after the commit
 * (messages.channel-activity.ts; should that fail, the send still answers with its stored message
 * and the move is logged and retried). SQLite, one writer at a time, moves it in the transaction.
 * A top-level message that quotes nothing, on PostgreSQL, is stored by the batch statement instead,
 * which moves last_message_at itself (storeInOneStatement).
 */
export async function storeMessage(
  deps: SendDeps,
  appId: number,
  caller: Caller,
  cid: string,
  body: JsonObject,
  options: SendOptions = {},
): Promise<StoredMessage> {
  const { dialect, clock, logger } = deps;
  const input = messageFromInput(body);
  if (input.type === 'system' && caller.kind !== 'server')
    throw notAllowed('only a server token can send system messages');
  const userId = actingUserId(caller, input.userId, 'message.user_id');
  const id = input.id ?? newMessageId();
  const grouped = groupedSendStatements[dialect.name];
  const inOneStatement =
    grouped && input.parentId === undefined && input.quotedMessageId === undefined
      ? await storeInOneStatement(deps, grouped, appId, caller, cid, userId, id, input, options)
      : undefined;
  const stored =
    inOneStatement ??
    (await dialect.writeTransaction(async (trx) => {
      const channel = await findChannel(trx, appId, cid, dialect.rowLocks && 'keyShare');
      if (!channel || channel.deleted_at !== null) throw notFound(`channel ${cid} does not exist`);
      if (channel.frozen === 1 && !options.announcesChannelChange)
        throw notAllowed(`channel ${cid} is frozen: it takes no new messages`);
      const users = await findUsersByIds(trx, appId, [userId, ...input.mentionedUsers]);
      if (!users.has(userId))
        throw inputError('message.user_id', `users do not exist: ${userId}; create them first`);
      const missing = unique(input.mentionedUsers).filter((id) => !users.has(id));
      if (missing.length > 0) {
        throw inputError(
          'message.mentioned_users',
          `users do not exist: ${missing.join(', ')}; create them first`,
        );
      }
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
      const row = newMessageRow(appId, cid, userId, id, input, now);
      // One statement checks the id and stores the row: a racing send of the same id waits for the
      // other to commit and then finds it taken, as a later send would.
      if (!(await insertMessageIfAbsent(trx, row)))
        throw inputError('message.id', `a message with id ${id} already exists`);
      // The channel before the parent: every transaction that locks both takes them in this order.
      if (shownInChannel(row) && !dialect.rowLocks) {
        if (!(await advanceLastMessageAt(trx, appId, cid, now)))
          throw notFound(`channel ${cid} does not exist`);
      }
      if (row.parent_id !== null) {
        if ((await adjustReplyCounts(trx, appId, new Map([[row.parent_id, 1]]))) !== 1) {
          throw inputError('message.parent_id', `message ${row.parent_id} does not exist`);
        }
      }
      return { row, users };
    }));
  // The batch statement moved last_message_at itself.
  if (!inOneStatement && shownInChannel(stored.row) && dialect.rowLocks)
    await advanceLastMessageAtAfterCommit(
      { db: dialect.derivedWritesDb, keepPrepared: dialect.keepPrepared, logger },
      appId,
      cid,
    );
  return stored;
}

/** The row of a message as sent, before it is stored. */
function newMessageRow(
  appId: number,
  cid: string,
  userId: string,
  id: string,
  input: MessageInput,
  now: number,
): MessageRow {
  return {
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
}

/**
 * The short path for a top-level message that quotes nothing, where the dialect has a statement for
 * batches (messages.dialects.ts: PostgreSQL): stored with the other messages sent at the same time by
 * one autocommit statement, which reads their users, stores each only if its channel takes it
 * (holding the channel row shared, as the transaction does) and moves the channels' last_message_at
 * (messages.send-batches.ts). Undefined when it stored nothing: the transaction then runs and says why
 * (or stores the message, if what refused it changed meanwhile, as a later send would).
 */
async function storeInOneStatement(
  { dialect, clock }: Deps,
  statement: GroupedSendStatement,
  appId: number,
  caller: Caller,
  cid: string,
  userId: string,
  id: string,
  input: MessageInput,
  options: SendOptions,
): Promise<StoredMessage | undefined> {
  const row = newMessageRow(appId, cid, userId, id, input, clock.nowMicros());
  const users = await storeInBatch(dialect, statement, {
    row,
    userIds: [userId, ...input.mentionedUsers],
    frozenToo: options.announcesChannelChange === true,
    member: caller.kind === 'user' ? userId : undefined,
  });
  return users ? { row, users } : undefined;
}

function shownInChannel(row: MessageRow): boolean {
  return row.parent_id === null || row.show_in_channel === 1;
}

/** storeMessage, for callers that need only the row. */
export async function sendMessage(
  deps: SendDeps,
  appId: number,
  caller: Caller,
  cid: string,
  body: JsonObject,
  options: SendOptions = {},
): Promise<MessageRow> {
  return (await storeMessage(deps, appId, caller, cid, body, options)).row;
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
