import type { Context } from '../../context.js';
import type { HttpApp } from '../../http/http-app.js';
import { actingUserId, type Caller } from '../../lib/caller.js';
import type { ApiForm } from '../../lib/shapes/shape.js';
import { presentFullUser, userLookup } from '../users/users.presenter.js';
import { findUsersByIds } from '../users/users.repository.js';
import { setHidden, updateMemberPartial } from './channels.membership.js';
import { membersPayloadFrom, queryMembers } from './channels.member-query.js';
import { channelMutesByUser, presentChannelMutes, presentMember } from './channels.presenter.js';
import { mutedCids, muteChannels, unmuteChannels } from './channels.mutes.js';
import {
  ChannelParams,
  HideChannelBody,
  MemberParams,
  MemberQuery,
  MuteChannelBody,
  UnmuteChannelBody,
  QueryMembersQuery,
  ShowChannelBody,
  UpdateMemberPartialBody,
} from './channels.schemas.js';
import type { MemberRow } from '../../database/database.types.js';

/** Members: the query of one channel's members, and one member's own state (custom data, pin, archive, hide). */
export function registerMembershipRoutes(app: HttpApp, context: Context, form: ApiForm): void {
  const { db } = context;

  async function presented(appId: number, row: MemberRow) {
    const users = await findUsersByIds(db, appId, [row.user_id]);
    return { channel_member: presentMember(row, userLookup(users, form), form) };
  }

  async function patchMember(
    appId: number,
    caller: Caller,
    params: { type: string; id: string },
    named: string | undefined,
    body: { set?: Record<string, unknown>; unset?: string[] },
  ) {
    const userId = actingUserId(caller, named, 'user_id');
    const row = await updateMemberPartial(context, appId, `${params.type}:${params.id}`, userId, {
      set: body.set ?? {},
      unset: body.unset ?? [],
    });
    return presented(appId, row);
  }

  app.get(
    '/members',
    { schema: { querystring: QueryMembersQuery }, config: { operation: 'QueryMembers' } },
    async (request) => {
      const payload = membersPayloadFrom(request.query.payload);
      const rows = await queryMembers(context, request.app.id, payload);
      const users = await findUsersByIds(
        db,
        request.app.id,
        rows.map((row) => row.user_id),
      );
      const user = userLookup(users, form);
      return { members: rows.map((row) => presentMember(row, user, form)) };
    },
  );

  app.patch(
    '/channels/:type/:id/member',
    {
      schema: { params: ChannelParams, querystring: MemberQuery, body: UpdateMemberPartialBody },
      config: { operation: 'UpdateMemberPartial' },
    },
    async (request) =>
      patchMember(request.app.id, request.caller, request.params, request.query.user_id, request.body),
  );

  // The SDK's older partialUpdateMember (behind channel.pin, archive and their opposites).
  app.patch(
    '/channels/:type/:id/member/:user_id',
    {
      schema: { params: MemberParams, body: UpdateMemberPartialBody },
      config: { operation: 'UpdateMemberPartial' },
    },
    async (request) =>
      patchMember(request.app.id, request.caller, request.params, request.params.user_id, request.body),
  );

  app.post(
    '/moderation/mute/channel',
    { schema: { body: MuteChannelBody }, config: { operation: 'MuteChannel' } },
    async (request) => {
      const appId = request.app.id;
      const userId = actingUserId(request.caller, request.body.user_id, 'user_id');
      const cids = mutedCids(request.body.channel_cid, request.body.channel_cids);
      const muted = await muteChannels(context, appId, userId, cids, request.body.expiration);
      const now = context.clock.nowMicros();
      const mutes = (await channelMutesByUser(db, appId, [userId], now, form)).get(userId) ?? [];
      const [one] = muted.length === 1 ? await presentChannelMutes(db, appId, muted, form) : [];
      const owner = (await findUsersByIds(db, appId, [userId])).get(userId);
      return {
        ...(one ? { channel_mute: one } : {}),
        channel_mutes: mutes,
        // Stream's OwnUserResponse: the user with their mutes as they now stand.
        ...(owner ? { own_user: presentFullUser(owner, form, mutes) } : {}),
      };
    },
  );

  app.post(
    '/moderation/unmute/channel',
    { schema: { body: UnmuteChannelBody }, config: { operation: 'UnmuteChannel' } },
    async (request) => {
      const userId = actingUserId(request.caller, request.body.user_id, 'user_id');
      const cids = mutedCids(request.body.channel_cid, request.body.channel_cids);
      await unmuteChannels(context, request.app.id, userId, cids);
      return {};
    },
  );

  app.post(
    '/channels/:type/:id/hide',
    { schema: { params: ChannelParams, body: HideChannelBody }, config: { operation: 'HideChannel' } },
    async (request) => {
      const userId = actingUserId(request.caller, request.body.user_id ?? undefined, 'user_id');
      const cid = `${request.params.type}:${request.params.id}`;
      await setHidden(context, request.app.id, cid, userId, true, request.body.clear_history ?? false);
      return {};
    },
  );

  app.post(
    '/channels/:type/:id/show',
    { schema: { params: ChannelParams, body: ShowChannelBody }, config: { operation: 'ShowChannel' } },
    async (request) => {
      const userId = actingUserId(request.caller, request.body.user_id ?? undefined, 'user_id');
      const cid = `${request.params.type}:${request.params.id}`;
      await setHidden(context, request.app.id, cid, userId, false, false);
      return {};
    },
  );
}
