/**
 * Stream's channel and membership model driven through both official SDKs, beside the data calls of
 * sdk-drivers.ts: each driver makes the calls the way its SDK's documentation makes them (`stream-chat`:
 * `channel.addMembers`, `channel.pin`, ...; `@stream-io/node-sdk`: `channel.update({add_members})`,
 * `channel.updateMemberPartial({set: {pinned: true}})`, ...) and reads the answers into the neutral views
 * of sdk-views.ts. Every node-sdk answer is held to the type the SDK gives it.
 */
import { StreamClient } from '@stream-io/node-sdk';
import type { StreamChat } from 'stream-chat';
import { expect } from 'vitest';
import { SDKS, sdkDriver, type SdkDriver, type SdkName } from './sdk-drivers.js';
import { sdkTypeProblems } from './sdk-types.js';
import { viewsOf, type ChannelView, type MemberView, type MessageView, type StateView } from './sdk-views.js';
import { sdkClient, type TestApp, type TestServer } from './test-server.js';

type Json = Record<string, unknown>;
type Sort = Array<{ field: string; direction: 1 | -1 }>;

/** A member as a request names it: an id, with a channel role and custom data when given. */
export interface MemberSpec {
  userId: string;
  channelRole?: string;
  custom?: Json;
}

/** A channel as one user's queryChannels shows it: their membership and hidden state included. */
export interface OwnChannelView {
  cid: string;
  messageTexts: string[];
  hidden: boolean | undefined;
  membership: MemberView | undefined;
}

export interface ChannelMuteView {
  cid: string;
  userId: string;
  expires: string | undefined;
}

/** An announcement sent with a change: `{text, user_id}`. */
interface Announcement {
  text: string;
  userId: string;
}

export interface MembershipDriver extends SdkDriver {
  createChannel(
    type: string,
    id: string,
    data: { createdBy: string; members: MemberSpec[]; invites?: MemberSpec[]; custom?: Json },
  ): Promise<StateView & { memberViews: MemberView[] }>;
  addMembers(
    type: string,
    id: string,
    members: MemberSpec[],
    options?: { hideHistory?: boolean; message?: Announcement },
  ): Promise<{ members: MemberView[]; memberCount: number; message: MessageView | undefined }>;
  removeMembers(
    type: string,
    id: string,
    userIds: string[],
    message?: Announcement,
  ): Promise<{ memberCount: number; message: MessageView | undefined }>;
  inviteMembers(type: string, id: string, userIds: string[]): Promise<void>;
  answerInvite(
    type: string,
    id: string,
    userId: string,
    answer: 'accept' | 'reject',
    message?: Announcement,
  ): Promise<{ message: MessageView | undefined }>;
  addModerators(type: string, id: string, userIds: string[]): Promise<void>;
  demoteModerators(type: string, id: string, userIds: string[]): Promise<void>;
  assignRoles(type: string, id: string, roles: Array<{ userId: string; channelRole: string }>): Promise<void>;
  /** `set` and `unset` as Stream's documentation writes them for both SDKs: custom names flat or dotted. */
  updateMemberPartial(
    type: string,
    id: string,
    userId: string,
    update: { set?: Json; unset?: string[] },
  ): Promise<MemberView>;
  pin(type: string, id: string, userId: string, pinned: boolean): Promise<MemberView>;
  archive(type: string, id: string, userId: string, archived: boolean): Promise<MemberView>;
  queryMembers(
    type: string,
    id: string,
    filter: Json,
    sort?: Sort,
    page?: { limit?: number; offset?: number },
  ): Promise<MemberView[]>;
  hide(type: string, id: string, userId: string, clearHistory: boolean): Promise<void>;
  show(type: string, id: string, userId: string): Promise<void>;
  mute(
    type: string,
    id: string,
    userId: string,
    expirationMs?: number,
  ): Promise<{ channelMute: ChannelMuteView | undefined; channelMutes: ChannelMuteView[] }>;
  unmute(type: string, id: string, userId: string): Promise<void>;
  /** queryChannels for one user (server side `user_id`): their hidden, muted, pinned channels. */
  queryChannelsFor(userId: string, filter: Json): Promise<OwnChannelView[]>;
  truncateFor(type: string, id: string, memberIds: string[]): Promise<ChannelView>;
  /** A full update of the channel's data, with an announcement. */
  updateChannelData(
    type: string,
    id: string,
    data: Json,
    message?: Announcement,
  ): Promise<{
    channel: ChannelView & { frozen: boolean; disabled: boolean };
    message: MessageView | undefined;
  }>;
  listChannelTypes(): Promise<Record<string, { name: string; reactions: boolean; replies: boolean }>>;
  getChannelType(name: string): Promise<{ name: string; commands: unknown[] }>;
  getApp(): Promise<{ channelConfigs: string[] }>;
}

/** Checks a node-sdk response against the type the SDK gives it, then hands it on as plain JSON. */
function promised<T>(response: T, interfaceName: string): Json {
  expect(sdkTypeProblems(response, interfaceName)).toEqual([]);
  return response as unknown as Json;
}

function muteView(m: Json): ChannelMuteView {
  return {
    cid: (m.channel as Json).cid as string,
    userId: (m.user as Json).id as string,
    expires: m.expires === undefined ? undefined : new Date(m.expires as string | Date).toISOString(),
  };
}

function streamChatMembership(client: StreamChat, base: SdkDriver): MembershipDriver {
  const view = viewsOf(false);
  const channelOf = (type: string, id: string) => client.channel(type, id);
  const flat = (m: MemberSpec) => ({
    ...m.custom,
    user_id: m.userId,
    ...(m.channelRole ? { channel_role: m.channelRole } : {}),
  });
  const announced = (message?: Announcement) =>
    message ? ({ text: message.text, user_id: message.userId } as never) : undefined;
  const optionalMessage = (message: unknown) => (message ? view.message(message as Json) : undefined);
  return {
    ...base,
    async createChannel(type, id, data) {
      const state = (await client
        .channel(type, id, {
          ...data.custom,
          created_by_id: data.createdBy,
          members: data.members.map(flat),
          ...(data.invites ? { invites: data.invites.map(flat) } : {}),
        } as never)
        .create()) as unknown as Json;
      return { ...view.state(state), memberViews: (state.members as Json[]).map(view.member) };
    },
    async addMembers(type, id, members, options = {}) {
      const response = (await channelOf(type, id).addMembers(
        members.map(flat) as never,
        announced(options.message),
        (options.hideHistory ? { hide_history: true } : {}) as never,
      )) as unknown as Json;
      return {
        members: (response.members as Json[]).map(view.member),
        memberCount: (response.channel as Json).member_count as number,
        message: optionalMessage(response.message),
      };
    },
    async removeMembers(type, id, userIds, message) {
      const response = (await channelOf(type, id).removeMembers(
        userIds,
        announced(message),
      )) as unknown as Json;
      return {
        memberCount: (response.channel as Json).member_count as number,
        message: optionalMessage(response.message),
      };
    },
    async inviteMembers(type, id, userIds) {
      await channelOf(type, id).inviteMembers(userIds);
    },
    async answerInvite(type, id, userId, answer, message) {
      const options = { user_id: userId, ...(message ? { message: announced(message) } : {}) } as never;
      const channel = channelOf(type, id);
      const response = (answer === 'accept'
        ? await channel.acceptInvite(options)
        : await channel.rejectInvite(options)) as unknown as Json;
      return { message: optionalMessage(response.message) };
    },
    async addModerators(type, id, userIds) {
      await channelOf(type, id).addModerators(userIds);
    },
    async demoteModerators(type, id, userIds) {
      await channelOf(type, id).demoteModerators(userIds);
    },
    async assignRoles(type, id, roles) {
      await channelOf(type, id).assignRoles(
        roles.map((r) => ({ user_id: r.userId, channel_role: r.channelRole })),
      );
    },
    async updateMemberPartial(type, id, userId, update) {
      const response = await channelOf(type, id).updateMemberPartial(update as never, { userId });
      return view.member(response.channel_member as unknown as Json);
    },
    async pin(type, id, userId, pinned) {
      const channel = channelOf(type, id);
      const member = pinned
        ? await channel.pin({ user_id: userId })
        : await channel.unpin({ user_id: userId });
      return view.member(member as unknown as Json);
    },
    async archive(type, id, userId, archived) {
      const channel = channelOf(type, id);
      const member = archived
        ? await channel.archive({ user_id: userId })
        : await channel.unarchive({ user_id: userId });
      return view.member(member as unknown as Json);
    },
    async queryMembers(type, id, filter, sort, page) {
      const response = await channelOf(type, id).queryMembers(
        filter as never,
        (sort?.map(({ field, direction }) => ({ [field]: direction })) ?? []) as never,
        page ?? {},
      );
      return (response.members as unknown as Json[]).map(view.member);
    },
    async hide(type, id, userId, clearHistory) {
      await channelOf(type, id).hide(userId, clearHistory);
    },
    async show(type, id, userId) {
      await channelOf(type, id).show(userId);
    },
    async mute(type, id, userId, expirationMs) {
      const response = (await channelOf(type, id).mute({
        user_id: userId,
        ...(expirationMs === undefined ? {} : { expiration: expirationMs }),
      })) as unknown as Json;
      return {
        channelMute: response.channel_mute ? muteView(response.channel_mute as Json) : undefined,
        channelMutes: ((response.channel_mutes ?? []) as Json[]).map(muteView),
      };
    },
    async unmute(type, id, userId) {
      await channelOf(type, id).unmute({ user_id: userId });
    },
    async queryChannelsFor(userId, filter) {
      // The raw answers: the SDK's channel objects merge the messages of every query into one state.
      const states = (await client.queryChannelsRequest(
        filter as never,
        [{ cid: 1 }] as never,
        {
          user_id: userId,
        } as never,
      )) as unknown as Json[];
      return states.map((s) => ({
        cid: (s.channel as Json).cid as string,
        messageTexts: (s.messages as Json[]).map((m) => m.text as string),
        hidden: s.hidden as boolean | undefined,
        membership: s.membership ? view.member(s.membership as Json) : undefined,
      }));
    },
    async truncateFor(type, id, memberIds) {
      const response = await channelOf(type, id).truncate({ member_ids: memberIds } as never);
      return view.channel(response.channel as unknown as Json);
    },
    async updateChannelData(type, id, data, message) {
      const response = (await channelOf(type, id).update(
        data as never,
        announced(message),
      )) as unknown as Json;
      const channel = response.channel as Json;
      return {
        channel: {
          ...view.channel(channel),
          frozen: channel.frozen as boolean,
          disabled: channel.disabled as boolean,
        },
        message: optionalMessage(response.message),
      };
    },
    async listChannelTypes() {
      return (await client.listChannelTypes()).channel_types as never;
    },
    async getChannelType(name) {
      return (await client.getChannelType(name)) as never;
    },
    async getApp() {
      const { app } = await client.getAppSettings();
      return { channelConfigs: Object.keys(app!.channel_configs as Json).sort() };
    },
  };
}

function nodeSdkMembership(client: StreamClient, base: SdkDriver): MembershipDriver {
  const view = viewsOf(true);
  const channelOf = (type: string, id: string) => client.chat.channel(type, id);
  const request = (m: MemberSpec) => ({
    user_id: m.userId,
    ...(m.channelRole ? { channel_role: m.channelRole } : {}),
    ...(m.custom ? { custom: m.custom } : {}),
  });
  const announced = (message?: Announcement) =>
    message ? { message: { text: message.text, user_id: message.userId } } : {};
  const optionalMessage = (message: unknown) => (message ? view.message(message as Json) : undefined);
  const update = async (
    type: string,
    id: string,
    body: Parameters<ReturnType<typeof channelOf>['update']>[0],
  ) => promised(await channelOf(type, id).update(body), 'UpdateChannelResponse');
  const partial = async (
    type: string,
    id: string,
    body: { user_id: string; set?: Json; unset?: string[] },
  ) => {
    const response = promised(
      await channelOf(type, id).updateMemberPartial(body),
      'UpdateMemberPartialResponse',
    );
    return view.member(response.channel_member as Json);
  };
  return {
    ...base,
    async createChannel(type, id, data) {
      const response = await channelOf(type, id).getOrCreate({
        data: {
          created_by_id: data.createdBy,
          members: data.members.map(request),
          ...(data.invites ? { invites: data.invites.map(request) } : {}),
          ...(data.custom ? { custom: data.custom } : {}),
        },
      });
      const state = promised(response, 'ChannelStateResponse');
      return { ...view.state(state), memberViews: (state.members as Json[]).map(view.member) };
    },
    async addMembers(type, id, members, options = {}) {
      const response = await update(type, id, {
        add_members: members.map(request),
        ...(options.hideHistory ? { hide_history: true } : {}),
        ...announced(options.message),
      });
      return {
        members: (response.members as Json[]).map(view.member),
        memberCount: (response.channel as Json).member_count as number,
        message: optionalMessage(response.message),
      };
    },
    async removeMembers(type, id, userIds, message) {
      const response = await update(type, id, { remove_members: userIds, ...announced(message) });
      return {
        memberCount: (response.channel as Json).member_count as number,
        message: optionalMessage(response.message),
      };
    },
    async inviteMembers(type, id, userIds) {
      await update(type, id, { invites: userIds.map((user_id) => ({ user_id })) });
    },
    async answerInvite(type, id, userId, answer, message) {
      const response = await update(type, id, {
        ...(answer === 'accept' ? { accept_invite: true } : { reject_invite: true }),
        user_id: userId,
        ...announced(message),
      });
      return { message: optionalMessage(response.message) };
    },
    async addModerators(type, id, userIds) {
      await update(type, id, { add_moderators: userIds });
    },
    async demoteModerators(type, id, userIds) {
      await update(type, id, { demote_moderators: userIds });
    },
    async assignRoles(type, id, roles) {
      await update(type, id, {
        assign_roles: roles.map((r) => ({ user_id: r.userId, channel_role: r.channelRole })),
      });
    },
    updateMemberPartial: (type, id, userId, { set, unset }) =>
      partial(type, id, { user_id: userId, set, unset }),
    pin: (type, id, userId, pinned) => partial(type, id, { user_id: userId, set: { pinned } }),
    archive: (type, id, userId, archived) => partial(type, id, { user_id: userId, set: { archived } }),
    async queryMembers(type, id, filter, sort, page) {
      const response = await channelOf(type, id).queryMembers({
        payload: { filter_conditions: filter, sort, ...page },
      });
      return (promised(response, 'MembersResponse').members as Json[]).map(view.member);
    },
    async hide(type, id, userId, clearHistory) {
      promised(
        await channelOf(type, id).hide({ user_id: userId, clear_history: clearHistory }),
        'HideChannelResponse',
      );
    },
    async show(type, id, userId) {
      promised(await channelOf(type, id).show({ user_id: userId }), 'ShowChannelResponse');
    },
    async mute(type, id, userId, expiration) {
      const response = promised(
        await client.chat.muteChannel({ channel_cids: [`${type}:${id}`], user_id: userId, expiration }),
        'MuteChannelResponse',
      );
      return {
        channelMute: response.channel_mute ? muteView(response.channel_mute as Json) : undefined,
        channelMutes: ((response.channel_mutes ?? []) as Json[]).map(muteView),
      };
    },
    async unmute(type, id, userId) {
      promised(
        await client.chat.unmuteChannel({ channel_cids: [`${type}:${id}`], user_id: userId }),
        'UnmuteResponse',
      );
    },
    async queryChannelsFor(userId, filter) {
      const response = await client.chat.queryChannels({
        filter_conditions: filter,
        sort: [{ field: 'cid', direction: 1 }],
        user_id: userId,
      });
      return (promised(response, 'QueryChannelsResponse').channels as Json[]).map((s) => ({
        cid: (s.channel as Json).cid as string,
        messageTexts: (s.messages as Json[]).map((m) => m.text as string),
        hidden: s.hidden as boolean | undefined,
        membership: s.membership ? view.member(s.membership as Json) : undefined,
      }));
    },
    async truncateFor(type, id, memberIds) {
      const response = await channelOf(type, id).truncate({ member_ids: memberIds });
      return view.channel(promised(response, 'TruncateChannelResponse').channel as Json);
    },
    async updateChannelData(type, id, data, message) {
      const { frozen, disabled, ...custom } = data;
      const response = await update(type, id, {
        data: {
          ...(frozen === undefined ? {} : { frozen: frozen as boolean }),
          ...(disabled === undefined ? {} : { disabled: disabled as boolean }),
          ...(Object.keys(custom).length > 0 ? { custom } : {}),
        },
        ...announced(message),
      });
      const channel = response.channel as Json;
      return {
        channel: {
          ...view.channel(channel),
          frozen: channel.frozen as boolean,
          disabled: channel.disabled as boolean,
        },
        message: optionalMessage(response.message),
      };
    },
    async listChannelTypes() {
      return promised(await client.chat.listChannelTypes(), 'ListChannelTypesResponse')
        .channel_types as never;
    },
    async getChannelType(name) {
      return promised(await client.chat.getChannelType({ name }), 'GetChannelTypeResponse') as never;
    },
    async getApp() {
      const { app } = promised(await client.getApp(), 'GetApplicationResponse') as { app: Json };
      return { channelConfigs: Object.keys(app.channel_configs as Json).sort() };
    },
  };
}

export { SDKS };

/** A membership driver of the named SDK for an app of the test server (the data calls included). */
export function membershipDriver(sdk: SdkName, t: TestServer, app: TestApp): MembershipDriver {
  const base = sdkDriver(sdk, t, app);
  if (sdk === 'stream-chat')
    return streamChatMembership(sdkClient(app.apiKey, app.apiSecret, t.baseURL), base);
  return nodeSdkMembership(
    new StreamClient(app.apiKey, app.apiSecret, { basePath: t.baseURL, timeout: 20_000 }),
    base,
  );
}
