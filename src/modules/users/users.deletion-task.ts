import { UnrecoverableError } from '../../lib/errors.js';
import { isPlainObject } from '../../lib/json.js';
import type { TaskHandler } from '../tasks/tasks.types.js';
import { deleteUser } from './users.deletion.js';
import { findUser } from './users.repository.js';

export const DELETE_USERS_KIND = 'delete-users';

/**
 * `POST /users/delete` modes, mapped onto deleteUser (docs/data-model.md):
 * - user: `soft` keeps the user marked deleted; `pruning` and `hard` remove it for good.
 * - messages: `soft` soft-deletes their messages; `pruning` and `hard` remove them for good; absent
 *   leaves them.
 * - conversations: `soft` or `hard` deletes the member-named channels they are in.
 */
export interface DeleteUsersPayload {
  userIds: string[];
  user: 'soft' | 'pruning' | 'hard';
  messages?: 'soft' | 'pruning' | 'hard';
  conversations?: 'soft' | 'hard';
  newChannelOwnerId?: string;
}

function payloadOf(payload: unknown): DeleteUsersPayload {
  if (!isPlainObject(payload) || !Array.isArray(payload.userIds) || typeof payload.user !== 'string') {
    throw new UnrecoverableError('the task has no valid delete-users request', 'invalid_payload');
  }
  return payload as unknown as DeleteUsersPayload;
}

/** Deletes each user in its own transaction; the result says, per user, whether it worked. */
export const deleteUsersHandler: TaskHandler = async ({ context, task, signal }) => {
  const request = payloadOf(task.payload);
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
