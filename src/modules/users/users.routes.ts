import type { UserRow } from '../../database/database.types.js';
import type { Context } from '../../context.js';
import type { HttpApp } from '../../http/http-app.js';
import type { ApiForm } from '../../lib/shapes/shape.js';
import { channelMutesByUser } from '../channels/channels.presenter.js';
import { presentFullUser, presentUser } from './users.presenter.js';
import { deleteUser } from './users.deletion.js';
import { deleteUsersTask, type DeleteUsersPayload } from './users.deletion-task.js';
import { submitTask } from '../tasks/tasks.submit.js';
import { inputError } from '../../lib/errors.js';
import { findUser } from './users.repository.js';
import {
  DeleteUsersBody,
  DeleteUserQuery,
  PartialUpdateUsersBody,
  QueryUsersQuery,
  RestoreUsersBody,
  UpsertUsersBody,
  UserIdParams,
} from './users.schemas.js';
import { partialUpdateUsers, queryUsers, restoreUsers, upsertUsers } from './users.usecases.js';

/** `form`: the API generation answering (v1 at the root, v2 under `/api/v2`). */
export function registerUserRoutes(app: HttpApp, context: Context, form: ApiForm): void {
  /** FullUserResponses of the rows, their channel mutes read for all of them at once. */
  const fullUsers = async (appId: number, rows: UserRow[]) => {
    const mutes = await channelMutesByUser(
      context.db,
      appId,
      rows.map((row) => row.id),
      context.clock.nowMicros(),
      form,
    );
    return rows.map((row) => presentFullUser(row, form, mutes.get(row.id) ?? []));
  };
  // Stream's UpdateUsersResponse; v2 requires the id of a membership deletion task, which chatport never starts.
  const updated = async (appId: number, rows: UserRow[]) => ({
    users: Object.fromEntries((await fullUsers(appId, rows)).map((user, index) => [rows[index]!.id, user])),
    ...(form === 'v2' ? { membership_deletion_task_id: '' } : {}),
  });

  app.post(
    '/users',
    { schema: { body: UpsertUsersBody }, config: { operation: 'UpdateUsers' } },
    async (request) => {
      return updated(request.app.id, await upsertUsers(context, request.app.id, request.body.users));
    },
  );

  app.patch(
    '/users',
    { schema: { body: PartialUpdateUsersBody }, config: { operation: 'UpdateUsersPartial' } },
    async (request) => {
      return updated(request.app.id, await partialUpdateUsers(context, request.app.id, request.body.users));
    },
  );

  app.get(
    '/users',
    { schema: { querystring: QueryUsersQuery }, config: { operation: 'QueryUsers' } },
    async (request) => {
      const rows = await queryUsers(context, request.app.id, request.query.payload);
      return { users: await fullUsers(request.app.id, rows) };
    },
  );

  // The v2 API deletes users only by the task of `POST /users/delete`.
  if (form === 'v1')
    app.delete(
      '/users/:id',
      { schema: { params: UserIdParams, querystring: DeleteUserQuery }, config: { operation: 'DeleteUser' } },
      async (request) => {
        const user = await deleteUser(context, request.app.id, request.params.id, {
          hardDelete: request.query.hard_delete ?? false,
          markMessagesDeleted: request.query.mark_messages_deleted ?? false,
          deleteConversationChannels: request.query.delete_conversation_channels ?? false,
        });
        return { user: presentUser(user, form) };
      },
    );

  app.post(
    '/users/delete',
    { schema: { body: DeleteUsersBody }, config: { operation: 'DeleteUsers' } },
    async (request) => {
      const body = request.body;
      if (
        body.new_channel_owner_id !== undefined &&
        !(await findUser(context.db, request.app.id, body.new_channel_owner_id))
      ) {
        throw inputError('new_channel_owner_id', `user ${body.new_channel_owner_id} does not exist`);
      }
      const payload: DeleteUsersPayload = {
        userIds: [...new Set(body.user_ids)],
        user: body.user ?? 'soft',
        ...(body.messages !== undefined ? { messages: body.messages } : {}),
        ...(body.conversations !== undefined ? { conversations: body.conversations } : {}),
        ...(body.new_channel_owner_id !== undefined ? { newChannelOwnerId: body.new_channel_owner_id } : {}),
      };
      const task = await submitTask(context, deleteUsersTask, { appId: request.app.id, payload });
      return { task_id: task.id };
    },
  );

  app.post(
    '/users/restore',
    { schema: { body: RestoreUsersBody }, config: { operation: 'RestoreUsers' } },
    async (request) => {
      await restoreUsers(context, request.app.id, request.body.user_ids);
      return {};
    },
  );
}
