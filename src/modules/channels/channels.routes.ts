import type { Static } from 'typebox';
import type { Context } from '../../context.js';
import type { HttpApp } from '../../http/http-app.js';
import { inputError } from '../../lib/errors.js';
import { isPlainObject } from '../../lib/json.js';
import { actingUserId } from '../../lib/caller.js';
import { parseTimestamp } from '../../lib/time.js';
import { findMessage } from '../messages/messages.repository.js';
import { presentMessage } from '../messages/messages.presenter.js';
import { sendMessage } from '../messages/messages.usecases.js';
import { userLookup } from '../users/users.presenter.js';
import { findUsersByIds } from '../users/users.repository.js';
import { assertUsersExist } from '../users/users.usecases.js';
import { presentChannel, presentChannelStates, presentMember } from './channels.presenter.js';
import { queryChannelRows } from './channels.query.js';
import { membersOf } from './channels.repository.js';
import { parseCid } from '../../lib/ids.js';
import { submitTask } from '../tasks/tasks.submit.js';
import { deleteChannelsTask, type DeleteChannelsPayload } from './channels.deletion-task.js';
import {
  ChannelParams,
  DeleteChannelsBody,
  ChannelTypeParams,
  DeleteChannelQuery,
  GetOrCreateChannelBody,
  PartialUpdateChannelBody,
  QueryChannelsBody,
  TruncateChannelBody,
  UpdateChannelBody,
} from './channels.schemas.js';
import { getOrCreateChannel, partialUpdateChannel, updateChannel } from './channels.usecases.js';
import { assertSkipTruncateAllowed, deleteChannel, truncateChannel } from './channels.truncation.js';
import type { ChannelRow } from '../../database/database.types.js';
import type { ApiForm } from '../../lib/shapes/shape.js';

const DEFAULT_MESSAGE_LIMIT = 25;
/** The fields of an update that change members: a message sent with them announces the change. */
const MEMBERSHIP_CHANGES = [
  'add_members',
  'remove_members',
  'invites',
  'add_moderators',
  'demote_moderators',
  'assign_roles',
  'accept_invite',
  'reject_invite',
] as const;
const DEFAULT_MEMBER_LIMIT = 100;

/** `form`: the API generation answering (v1 at the root, v2 under `/api/v2/chat`). */
export function registerChannelRoutes(app: HttpApp, context: Context, form: ApiForm): void {
  const { db } = context;

  async function channelWithMembers(appId: number, channel: ChannelRow) {
    const members = await membersOf(db, appId, channel.cid, DEFAULT_MEMBER_LIMIT);
    const users = await findUsersByIds(db, appId, [
      ...members.map((m) => m.user_id),
      ...(channel.created_by_id ? [channel.created_by_id] : []),
      ...(channel.truncated_by_id ? [channel.truncated_by_id] : []),
    ]);
    const user = userLookup(users, form);
    return {
      channel: presentChannel(channel, user, form),
      members: members.map((m) => presentMember(m, user, form)),
    };
  }

  async function queryOne(
    appId: number,
    caller: Parameters<typeof getOrCreateChannel>[2],
    type: string,
    id: string | undefined,
    body: Static<typeof GetOrCreateChannelBody>,
  ) {
    const idLt = body.messages?.id_lt;
    // Side by side: on PostgreSQL the two queries wait on the network together.
    const [{ channel }, anchor] = await Promise.all([
      getOrCreateChannel(context, appId, caller, { type, id, data: body.data ?? {} }),
      idLt === undefined ? undefined : findMessage(db, appId, idLt),
    ]);
    let before: { createdAt: number; id: string } | undefined;
    if (idLt !== undefined) {
      if (!anchor || anchor.cid !== channel.cid)
        throw inputError('messages.id_lt', `message ${idLt} is not in ${channel.cid}`);
      before = { createdAt: anchor.created_at, id: anchor.id };
    }
    const [state] = await presentChannelStates(db, appId, [channel], {
      messageLimit: body.messages?.limit ?? DEFAULT_MESSAGE_LIMIT,
      memberLimit: body.members?.limit ?? DEFAULT_MEMBER_LIMIT,
      memberOffset: body.members?.offset ?? 0,
      before,
      form,
    });
    return state!;
  }

  app.post(
    '/channels/:type/:id/query',
    {
      schema: { params: ChannelParams, body: GetOrCreateChannelBody },
      config: { operation: 'GetOrCreateChannel' },
    },
    async (request) =>
      queryOne(request.app.id, request.caller, request.params.type, request.params.id, request.body),
  );

  app.post(
    '/channels/:type/query',
    {
      schema: { params: ChannelTypeParams, body: GetOrCreateChannelBody },
      config: { operation: 'GetOrCreateChannel' },
    },
    async (request) => queryOne(request.app.id, request.caller, request.params.type, undefined, request.body),
  );

  app.post(
    '/channels',
    { schema: { body: QueryChannelsBody }, config: { operation: 'QueryChannels' } },
    async (request) => {
      const body = request.body;
      // The user the channels are listed for (server side `user_id`, or a user token): their
      // membership, their own truncation and hidden history, and their hidden channels stay out.
      const ownUserId =
        request.caller.kind === 'user' ? request.caller.userId : (body.user_id ?? body.user?.id);
      if (ownUserId !== undefined) await assertUsersExist(db, request.app.id, [ownUserId], 'user_id');
      const rows = await queryChannelRows(context, request.app.id, {
        filter: body.filter_conditions,
        sort: body.sort,
        limit: body.limit ?? 10,
        offset: body.offset ?? 0,
        userId: ownUserId,
        now: context.clock.nowMicros(),
      });
      const channels = await presentChannelStates(db, request.app.id, rows, {
        messageLimit: body.message_limit ?? DEFAULT_MESSAGE_LIMIT,
        memberLimit: body.member_limit ?? DEFAULT_MEMBER_LIMIT,
        ownUserId,
        form,
      });
      return { channels };
    },
  );

  app.post(
    '/channels/delete',
    { schema: { body: DeleteChannelsBody }, config: { operation: 'DeleteChannels' } },
    async (request) => {
      const cids = [...new Set(request.body.cids)];
      cids.forEach((cid, index) => {
        if (!parseCid(cid)) throw inputError(`cids.${index}`, `"${cid}" is not a valid cid`);
      });
      const options = { hard: request.body.hard_delete ?? false, skipTruncate: request.body.skip_truncate };
      cids.forEach((cid) => assertSkipTruncateAllowed(cid, options, 'skip_truncate'));
      const payload: DeleteChannelsPayload = {
        cids,
        hardDelete: options.hard,
        ...(options.skipTruncate ? { skipTruncate: true } : {}),
      };
      const task = await submitTask(context, deleteChannelsTask, { appId: request.app.id, payload });
      return { task_id: task.id };
    },
  );

  app.post(
    '/channels/:type/:id',
    { schema: { params: ChannelParams, body: UpdateChannelBody }, config: { operation: 'UpdateChannel' } },
    async (request) => {
      const cid = `${request.params.type}:${request.params.id}`;
      const body = request.body;
      if (body.accept_invite && body.reject_invite)
        throw inputError('reject_invite', 'cannot be sent with accept_invite');
      let hideHistoryBefore: number | undefined;
      if (body.hide_history_before !== undefined) {
        const parsed = parseTimestamp(body.hide_history_before);
        if (parsed === null) throw inputError('hide_history_before', 'must be an RFC 3339 timestamp');
        hideHistoryBefore = parsed;
      } else if (body.hide_history === true) hideHistoryBefore = context.clock.nowMicros();
      const answer = body.accept_invite ? 'accept' : body.reject_invite ? 'reject' : undefined;
      const channel = await updateChannel(context, request.app.id, cid, {
        data: body.data,
        addMembers: body.add_members,
        removeMembers: body.remove_members,
        invites: body.invites,
        addModerators: body.add_moderators,
        demoteModerators: body.demote_moderators,
        assignRoles: body.assign_roles,
        answerInvite: answer,
        userId: answer ? actingUserId(request.caller, body.user_id, 'user_id') : body.user_id,
        hideHistoryBefore,
      });
      const response: Record<string, unknown> = await channelWithMembers(request.app.id, channel);
      if (isPlainObject(body.message)) {
        // Like Stream's, a message announcing a change of members is a system message unless it says otherwise.
        const membership = MEMBERSHIP_CHANGES.some((key) => body[key] !== undefined);
        const message = await sendMessage(
          context,
          request.app.id,
          request.caller,
          cid,
          membership ? { type: 'system', ...body.message } : body.message,
          { announcesChannelChange: true },
        );
        response.message = await presentMessage(db, request.app.id, message, { form });
      }
      return response;
    },
  );

  app.patch(
    '/channels/:type/:id',
    {
      schema: { params: ChannelParams, body: PartialUpdateChannelBody },
      config: { operation: 'UpdateChannelPartial' },
    },
    async (request) => {
      const cid = `${request.params.type}:${request.params.id}`;
      const channel = await partialUpdateChannel(context, request.app.id, cid, {
        set: request.body.set ?? {},
        unset: request.body.unset ?? [],
      });
      return channelWithMembers(request.app.id, channel);
    },
  );

  app.post(
    '/channels/:type/:id/truncate',
    {
      schema: { params: ChannelParams, body: TruncateChannelBody },
      config: { operation: 'TruncateChannel' },
    },
    async (request) => {
      const cid = `${request.params.type}:${request.params.id}`;
      const body = request.body;
      let truncatedAt: number | undefined;
      if (typeof body.truncated_at === 'string') {
        const parsed = parseTimestamp(body.truncated_at);
        if (parsed === null) throw inputError('truncated_at', 'must be an RFC 3339 timestamp');
        truncatedAt = parsed;
      }
      const channel = await truncateChannel(context, request.app.id, cid, {
        truncatedAt,
        hardDelete: body.hard_delete ?? false,
        userId: body.user_id ?? body.user?.id,
        memberIds: body.member_ids,
      });
      const response: Record<string, unknown> = {
        channel: (await channelWithMembers(request.app.id, channel)).channel,
      };
      if (isPlainObject(body.message)) {
        // Like Stream's, the message that announces a truncation is a system message unless it says otherwise.
        const truncatedBy = body.user_id ?? body.user?.id;
        const message = await sendMessage(
          context,
          request.app.id,
          request.caller,
          cid,
          {
            type: 'system',
            ...(truncatedBy !== undefined ? { user_id: truncatedBy } : {}),
            ...body.message,
          },
          { announcesChannelChange: true },
        );
        response.message = await presentMessage(db, request.app.id, message, { form });
      }
      return response;
    },
  );

  app.delete(
    '/channels/:type/:id',
    {
      schema: { params: ChannelParams, querystring: DeleteChannelQuery },
      config: { operation: 'DeleteChannel' },
    },
    async (request) => {
      const cid = `${request.params.type}:${request.params.id}`;
      const channel = await deleteChannel(context, request.app.id, cid, {
        hard: request.query.hard_delete ?? false,
        skipTruncate: request.query.skip_truncate,
      });
      const users = await findUsersByIds(
        db,
        request.app.id,
        [channel.created_by_id, channel.truncated_by_id].filter((id): id is string => id !== null),
      );
      return { channel: presentChannel(channel, userLookup(users, form), form) };
    },
  );
}
