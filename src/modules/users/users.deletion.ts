import type { DatabaseDialect } from '../../database/database.js';
import type { UserRow } from '../../database/database.types.js';
import { notFound } from '../../lib/errors.js';
import type { Clock } from '../../lib/time.js';
import {
  hardDeleteChannel,
  lockChannelsOfMember,
  removeChannelMutesOf,
  removeMemberships,
} from '../channels/channels.repository.js';
import { hardDeleteMessages } from '../messages/messages.repository.js';
import { deleteReactionsOfUser } from '../reactions/reactions.repository.js';
import { findUser } from './users.repository.js';

/**
 * What deleting a user does (docs/data-model.md):
 * - soft (default): the user is kept, marked with deleted_at; `restore` clears the mark.
 * - hard: the user row, their memberships and their reactions are removed for good.
 * - mark_messages_deleted: their messages are soft-deleted too; with hard, they are removed for good.
 * - delete_conversation_channels: the distinct channels they are in (ids derived from members) are
 *   deleted too, soft or hard as the user is.
 */
export interface DeleteUserOptions {
  hardDelete: boolean;
  markMessagesDeleted: boolean;
  hardDeleteMessages?: boolean;
  deleteConversationChannels: boolean;
  /** Whether conversation channels are removed for good; defaults to hardDelete. */
  hardDeleteConversations?: boolean;
}

/**
 * Runs one user's deletion in one transaction. Channels are changed before messages (member counts,
 * conversations), the order in which every writer locks them.
 */
export async function deleteUser(
  { dialect, clock }: { dialect: DatabaseDialect; clock: Clock },
  appId: number,
  userId: string,
  options: DeleteUserOptions,
): Promise<UserRow> {
  const rowLocks = dialect.rowLocks;
  return dialect.writeTransaction(async (trx) => {
    const user = await findUser(trx, appId, userId);
    if (!user) throw notFound(`user ${userId} does not exist`);
    const now = clock.nowMicros();
    const hardMessages = options.hardDeleteMessages ?? options.hardDelete;
    if (options.hardDelete || options.deleteConversationChannels) {
      await lockChannelsOfMember(trx, appId, userId, rowLocks);
    }

    if (options.deleteConversationChannels) {
      const conversations = await trx
        .selectFrom('members')
        .innerJoin('channels', (join) =>
          join.onRef('channels.app_id', '=', 'members.app_id').onRef('channels.cid', '=', 'members.cid'),
        )
        .select('channels.cid')
        .where('members.app_id', '=', appId)
        .where('members.user_id', '=', userId)
        .where('channels.id', 'like', '!members-%')
        .orderBy('channels.cid')
        .execute();
      for (const { cid } of conversations) {
        if (options.hardDeleteConversations ?? options.hardDelete) {
          await hardDeleteChannel(trx, appId, cid, rowLocks);
        } else {
          await trx
            .updateTable('channels')
            .set({ deleted_at: now, updated_at: now })
            .where('app_id', '=', appId)
            .where('cid', '=', cid)
            .where('deleted_at', 'is', null)
            .execute();
        }
      }
    }

    if (options.hardDelete) {
      await removeMemberships(trx, appId, userId);
      await removeChannelMutesOf(trx, appId, userId);
    }

    if (options.markMessagesDeleted) {
      if (hardMessages) {
        const ids = await trx
          .selectFrom('messages')
          .select('id')
          .where('app_id', '=', appId)
          .where('user_id', '=', userId)
          .execute();
        await hardDeleteMessages(
          trx,
          appId,
          ids.map((r) => r.id),
          rowLocks,
        );
      } else {
        await trx
          .updateTable('messages')
          .set({ deleted_at: now, updated_at: now })
          .where('app_id', '=', appId)
          .where('user_id', '=', userId)
          .where('deleted_at', 'is', null)
          .execute();
      }
    }

    if (options.hardDelete) {
      await deleteReactionsOfUser(trx, appId, userId, rowLocks);
      await trx.deleteFrom('users').where('app_id', '=', appId).where('id', '=', userId).execute();
      return { ...user, deleted_at: now, updated_at: now };
    }

    const deletedAt = user.deleted_at ?? now;
    await trx
      .updateTable('users')
      .set({ deleted_at: deletedAt, updated_at: now })
      .where('app_id', '=', appId)
      .where('id', '=', userId)
      .execute();
    return { ...user, deleted_at: deletedAt, updated_at: now };
  });
}
