/**
 * The operations that hide or remove a channel's history: truncation (for everyone, or for some
 * members) and deletion (soft, keeping the history for a re-created distinct channel, or hard).
 */
import type { Kysely } from 'kysely';
import type { DatabaseDialect } from '../../database/database.js';
import type { ChannelRow, Database } from '../../database/database.types.js';
import { inputError, notFound } from '../../lib/errors.js';
import { chunk, unique } from '../../lib/ids.js';
import { formatMicros, type Clock } from '../../lib/time.js';
import { hardDeleteMessages } from '../messages/messages.repository.js';
import { assertUsersExist } from '../users/users.usecases.js';
import { findChannel, hardDeleteChannel } from './channels.repository.js';
import { liveChannel } from './channels.usecases.js';

interface Deps {
  db: Kysely<Database>;
  dialect: DatabaseDialect;
  clock: Clock;
}

/** What a channel created without an id is named (channels.members.ts): the only ones `skip_truncate` applies to. */
const DISTINCT_CHANNEL_PREFIX = '!members-';

export interface TruncateInput {
  truncatedAt: number | undefined;
  hardDelete: boolean;
  userId: string | undefined;
  /** Truncate for these members only (Stream's `member_ids`); undefined: for everyone. */
  memberIds?: string[];
}

/**
 * Truncation hides every message created at or before `truncated_at` (default: now). Soft truncation
 * keeps them stored (exports with include_truncated_messages still carry them); hard removes them,
 * their replies and their reactions. With `memberIds` it hides them from those members only. A
 * truncation never moves back: an earlier `truncated_at` than the current one would show hidden
 * messages again, and is refused.
 */
export async function truncateChannel(
  { dialect, clock }: Deps,
  appId: number,
  cid: string,
  input: TruncateInput,
): Promise<ChannelRow> {
  return dialect.writeTransaction(async (trx) => {
    const now = clock.nowMicros();
    const truncatedAt = input.truncatedAt ?? now;
    // The channel row first (which locks it), then its members or messages: the order every writer keeps.
    const channel = await liveChannel(trx, appId, cid, dialect.rowLocks);
    if (input.userId !== undefined) await assertUsersExist(trx, appId, [input.userId], 'user_id');
    if (truncatedAt > now) throw inputError('truncated_at', 'cannot be in the future');
    if (channel.truncated_at !== null && truncatedAt < channel.truncated_at) {
      throw inputError(
        'truncated_at',
        `is earlier than the channel's current truncation (${formatMicros(channel.truncated_at)})`,
      );
    }
    if (input.memberIds !== undefined) {
      if (input.hardDelete)
        throw inputError(
          'hard_delete',
          'cannot be combined with member_ids: it removes messages for everyone',
        );
      await truncateForMembers(trx, appId, cid, unique(input.memberIds), truncatedAt);
      return channel;
    }
    const truncated = await trx
      .updateTable('channels')
      .set({ truncated_at: truncatedAt, truncated_by_id: input.userId ?? null, updated_at: now })
      .where('app_id', '=', appId)
      .where('cid', '=', cid)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (input.hardDelete) {
      const doomed = await trx
        .selectFrom('messages')
        .select('id')
        .where('app_id', '=', appId)
        .where('cid', '=', cid)
        .where('created_at', '<=', truncatedAt)
        .execute();
      await hardDeleteMessages(
        trx,
        appId,
        doomed.map((m) => m.id),
        dialect.rowLocks,
      );
    }
    return truncated;
  });
}

/** Sets the members' own truncation; each must be a member, and none may move back. */
async function truncateForMembers(
  db: Kysely<Database>,
  appId: number,
  cid: string,
  userIds: string[],
  truncatedAt: number,
): Promise<void> {
  const found = new Map<string, number | null>();
  for (const batch of chunk(userIds.sort(), 500)) {
    const rows = await db
      .selectFrom('members')
      .select(['user_id', 'truncated_at'])
      .where('app_id', '=', appId)
      .where('cid', '=', cid)
      .where('user_id', 'in', batch)
      .execute();
    for (const row of rows) found.set(row.user_id, row.truncated_at);
  }
  const missing = userIds.filter((id) => !found.has(id));
  if (missing.length > 0) throw inputError('member_ids', `not members of ${cid}: ${missing.join(', ')}`);
  for (const [userId, current] of found) {
    if (current !== null && truncatedAt < current) {
      throw inputError(
        'truncated_at',
        `is earlier than ${userId}'s current truncation (${formatMicros(current)})`,
      );
    }
  }
  for (const batch of chunk(userIds, 500)) {
    await db
      .updateTable('members')
      .set({ truncated_at: truncatedAt })
      .where('app_id', '=', appId)
      .where('cid', '=', cid)
      .where('user_id', 'in', batch)
      .execute();
  }
}

export interface DeleteChannelOptions {
  hard: boolean;
  /**
   * Keep the history for when the channel is created again (Stream's `skip_truncate`): only for a
   * distinct channel (created without an id), never with `hard`, and not once its messages were hidden
   * by a truncation or an earlier deletion.
   */
  skipTruncate?: boolean;
}

/** Refuses `skip_truncate` where Stream does not allow it; `field` names it in the error. */
export function assertSkipTruncateAllowed(cid: string, options: DeleteChannelOptions, field: string): void {
  if (!options.skipTruncate) return;
  if (options.hard) throw inputError(field, 'cannot be combined with hard_delete');
  if (!cid.slice(cid.indexOf(':') + 1).startsWith(DISTINCT_CHANNEL_PREFIX))
    throw inputError(field, `is only supported on distinct channels (created without an id), not ${cid}`);
}

/**
 * Soft delete marks the channel deleted (kept for exports that ask for it) and, unless `skipTruncate`,
 * hides its history from the channel created again in its place; hard removes everything.
 */
export async function deleteChannel(
  { dialect, clock }: Deps,
  appId: number,
  cid: string,
  options: DeleteChannelOptions,
): Promise<ChannelRow> {
  assertSkipTruncateAllowed(cid, options, 'skip_truncate');
  return dialect.writeTransaction(async (trx) => {
    // Locked: a message being sent holds the row shared (storeMessage: findChannel with 'keyShare'), so
    // the deletion waits for it to commit, and later messages find the channel deleted.
    const channel = await findChannel(trx, appId, cid, dialect.rowLocks);
    if (!channel) throw notFound(`channel ${cid} does not exist`);
    if (!options.hard && channel.deleted_at !== null) throw notFound(`channel ${cid} does not exist`);
    if (options.skipTruncate && channel.truncated_at !== null)
      throw inputError('skip_truncate', 'cannot keep a history already hidden by a truncation or deletion');
    const now = clock.nowMicros();
    if (options.hard) {
      await hardDeleteChannel(trx, appId, cid, dialect.rowLocks);
      return { ...channel, deleted_at: channel.deleted_at ?? now, updated_at: now };
    }
    const skipTruncate = options.skipTruncate ? 1 : 0;
    await trx
      .updateTable('channels')
      .set({ deleted_at: now, updated_at: now, skip_truncate: skipTruncate })
      .where('app_id', '=', appId)
      .where('cid', '=', cid)
      .execute();
    return { ...channel, deleted_at: now, updated_at: now, skip_truncate: skipTruncate };
  });
}
