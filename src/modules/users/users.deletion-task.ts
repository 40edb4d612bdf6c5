import { Type, type Static } from 'typebox';
import { payloadParser } from '../tasks/tasks.payload.js';
import type { TaskKind } from '../tasks/tasks.types.js';
import { deleteUser } from './users.deletion.js';
import { findUser } from './users.repository.js';
import { ConversationDeletionMode, DeletionMode } from './users.schemas.js';

/**
 * `POST /users/delete` modes, mapped onto deleteUser (docs/data-model.md):
 * - user: `soft` keeps the user marked deleted; `pruning` and `hard` remove it for good.
 * - messages: `soft` soft-deletes their messages; `pruning` and `hard` remove them for good; absent
 *   leaves them.
 * - conversations: `soft` or `hard` deletes the member-named channels they are in.
 */
export const DeleteUsersPayload = Type.Object({
  userIds: Type.Array(Type.String({ minLength: 1 })),
  user: DeletionMode,
  messages: Type.Optional(DeletionMode),
  conversations: Type.Optional(ConversationDeletionMode),
  newChannelOwnerId: Type.Optional(Type.String()),
});
export type DeleteUsersPayload = Static<typeof DeleteUsersPayload>;

/** Deletes each user in its own transaction; the result says, per user, whether it worked. */
const runUserDeletion: TaskKind<DeleteUsersPayload>['run'] = async ({ context, task, signal }) => {
  const request = task.payload;
  const results: Record<string, { status: 'ok' } | { status: 'error'; error: string }> = {};
  for (const userId of request.userIds) {
    signal.throwIfAborted();
    if (!(await findUser(context.db, task.appId, userId))) {
      results[userId] = { status: 'error', error: 'user does not exist' };
      continue;
    }
    if (request.newChannelOwnerId !== undefined) {
      await context.db
        .updateTable('channels')
        .set({ created_by_id: request.newChannelOwnerId })
        .where('app_id', '=', task.appId)
        .where('created_by_id', '=', userId)
        .execute();
    }
    await deleteUser(context, task.appId, userId, {
      hardDelete: request.user !== 'soft',
      markMessagesDeleted: request.messages !== undefined,
      hardDeleteMessages: request.messages !== undefined && request.messages !== 'soft',
      deleteConversationChannels: request.conversations !== undefined,
      hardDeleteConversations: request.conversations === 'hard',
    });
    results[userId] = { status: 'ok' };
  }
  return { result: { users: results } };
};

/** `POST /users/delete`. */
export const deleteUsersTask: TaskKind<DeleteUsersPayload> = {
  kind: 'delete-users',
  parsePayload: payloadParser('delete-users', DeleteUsersPayload),
  run: runUserDeletion,
};
