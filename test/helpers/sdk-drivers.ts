/**
 * One scenario, two official SDKs: each driver makes the same calls the way its SDK makes them (custom
 * data flattened for `stream-chat`, nested under `custom` for `@stream-io/node-sdk`) and reads the
 * answers back into one neutral view (sdk-views.ts), so a suite asserts the same things of both. The node-sdk driver
 * also holds every response to what the SDK's types promise (sdk-types.ts).
 */
import { StreamClient } from '@stream-io/node-sdk';
import type { StreamChat } from 'stream-chat';
import { expect } from 'vitest';
import { sdkTypeProblems } from './sdk-types.js';
import {
  viewsOf,
  type ChannelView,
  type MessageView,
  type ReactionView,
  type StateView,
  type TaskView,
  type UserView,
} from './sdk-views.js';
import { sdkClient, type TestApp, type TestServer } from './test-server.js';

type Json = Record<string, unknown>;
type Sort = Array<{ field: string; direction: 1 | -1 }>;

export interface MessageInput {
  id?: string;
  text: string;
  userId: string;
  parentId?: string;
  custom?: Json;
}

export interface SdkDriver {
  readonly sdk: 'stream-chat' | '@stream-io/node-sdk';
  upsertUsers(users: Array<{ id: string; name?: string; custom?: Json }>): Promise<Record<string, UserView>>;
  partialUpdateUser(id: string, update: { custom?: Json; unset?: string[] }): Promise<UserView>;
  queryUsers(filter: Json, sort?: Sort): Promise<UserView[]>;
  getOrCreateChannel(
    type: string,
    id: string,
    data: { createdBy: string; members: string[]; custom?: Json },
  ): Promise<StateView>;
  queryChannels(filter: Json, sort?: Sort): Promise<StateView[]>;
  partialUpdateChannel(
    type: string,
    id: string,
    update: { custom?: Json; unset?: string[] },
  ): Promise<ChannelView>;
  truncateChannel(type: string, id: string, userId: string): Promise<ChannelView>;
  deleteChannel(type: string, id: string, hard: boolean): Promise<ChannelView>;
  sendMessage(type: string, id: string, message: MessageInput): Promise<MessageView>;
  updateMessage(id: string, message: MessageInput): Promise<MessageView>;
  partialUpdateMessage(
    id: string,
    update: { userId: string; text?: string; custom?: Json; unset?: string[] },
  ): Promise<MessageView>;
  deleteMessage(id: string): Promise<MessageView>;
  sendReaction(
    messageId: string,
    reaction: { type: string; userId: string; custom?: Json },
  ): Promise<{ message: MessageView; reaction: ReactionView }>;
  exportChannels(channels: Array<{ type: string; id: string }>, version: 'v1' | 'v2'): Promise<string>;
  getTask(id: string): Promise<TaskView>;
  exportUser(id: string): Promise<{ user: UserView; messages: MessageView[]; reactions: ReactionView[] }>;
  exportUsers(ids: string[]): Promise<string>;
  deleteUsers(ids: string[], mode: 'soft' | 'hard'): Promise<string>;
  /** The Stream error code a failed call carried. */
  errorCode(error: unknown): number | undefined;
}

function streamChatDriver(client: StreamChat): SdkDriver {
  const view = viewsOf(false);
  // stream-chat takes a sort as `[{created_at: -1}]`.
  const sortOf = (sort: Sort | undefined) =>
    sort?.map(({ field, direction }) => ({ [field]: direction })) as never;
  const channelOf = (type: string, id: string) => client.channel(type, id);
  return {
    sdk: 'stream-chat',
    async upsertUsers(users) {
      const { users: saved } = await client.upsertUsers(
        users.map(({ custom, ...user }) => ({ ...custom, ...user })),
      );
      return Object.fromEntries(
        Object.entries(saved).map(([id, u]) => [id, view.user(u as unknown as Json)]),
      );
    },
    async partialUpdateUser(id, { custom, unset }) {
      const { users } = await client.partialUpdateUser({
        id,
        set: { ...custom } as never,
        unset: (unset ?? []) as never,
      });
      return view.user(users[id] as unknown as Json);
    },
    async queryUsers(filter, sort) {
      return (await client.queryUsers(filter as never, sortOf(sort))).users.map((u) =>
        view.user(u as unknown as Json),
      );
    },
    async getOrCreateChannel(type, id, data) {
      const state = await client
        .channel(type, id, { ...data.custom, created_by_id: data.createdBy, members: data.members } as never)
        .create();
      return view.state(state as unknown as Json);
    },
    async queryChannels(filter, sort) {
      return (await client.queryChannelsRequest(filter as never, sortOf(sort))).map((s) =>
        view.state(s as unknown as Json),
      );
    },
    async partialUpdateChannel(type, id, { custom, unset }) {
      const { channel } = await channelOf(type, id).updatePartial({
        set: { ...custom } as never,
        unset: (unset ?? []) as never,
      });
      return view.channel(channel as unknown as Json);
    },
    async truncateChannel(type, id, userId) {
      return view.channel(
        (await channelOf(type, id).truncate({ user_id: userId })).channel as unknown as Json,
      );
    },
    async deleteChannel(type, id, hard) {
      return view.channel(
        (await channelOf(type, id).delete({ hard_delete: hard })).channel as unknown as Json,
      );
    },
    async sendMessage(type, id, m) {
      const message = { ...m.custom, id: m.id, text: m.text, user_id: m.userId, parent_id: m.parentId };
      return view.message(
        (await channelOf(type, id).sendMessage(message as never)).message as unknown as Json,
      );
    },
    async updateMessage(id, m) {
      const message = { ...m.custom, id, text: m.text };
      return view.message(
        (await client.updateMessage(message as never, m.userId)).message as unknown as Json,
      );
    },
    async partialUpdateMessage(id, { userId, text, custom, unset }) {
      const set = { ...custom, ...(text === undefined ? {} : { text }) };
      const { message } = await client.partialUpdateMessage(id, { set, unset: unset ?? [] } as never, userId);
      return view.message(message as unknown as Json);
    },
    async deleteMessage(id) {
      return view.message((await client.deleteMessage(id)).message as unknown as Json);
    },
    async sendReaction(messageId, r) {
      const response = await client.post<Json>(`${client.baseURL}/messages/${messageId}/reaction`, {
        reaction: { ...r.custom, type: r.type, user_id: r.userId },
      });
      return {
        message: view.message(response.message as Json),
        reaction: view.reaction(response.reaction as Json),
      };
    },
    async exportChannels(channels, version) {
      return (await client.exportChannels(channels, { version } as never)).task_id;
    },
    async getTask(id) {
      const task = (await client.getTask(id)) as unknown as Json;
      return {
        status: task.status as string,
        url: (task.result as Json | undefined)?.url as string | undefined,
      };
    },
    async exportUser(id) {
      const body = (await client.exportUser(id)) as unknown as Json;
      return {
        user: view.user(body.user as Json),
        messages: (body.messages as Json[]).map(view.message),
        reactions: (body.reactions as Json[]).map(view.reaction),
      };
    },
    async exportUsers(ids) {
      return (await client.exportUsers({ user_ids: ids })).task_id;
    },
    async deleteUsers(ids, mode) {
      return (await client.deleteUsers(ids, { user: mode, messages: mode })).task_id;
    },
    errorCode: (error) => (error as { response?: { data?: { code?: number } } }).response?.data?.code,
  };
}

/** Checks a node-sdk response against the type the SDK gives it, then hands it on as plain JSON. */
function promised<T>(response: T, interfaceName: string): Json {
  expect(sdkTypeProblems(response, interfaceName)).toEqual([]);
  return response as unknown as Json;
}

function nodeSdkDriver(client: StreamClient): SdkDriver {
  const view = viewsOf(true);
  const channelOf = (type: string, id: string) => client.chat.channel(type, id);
  return {
    sdk: '@stream-io/node-sdk',
    async upsertUsers(users) {
      const body = promised(await client.upsertUsers(users), 'UpdateUsersResponse');
      return Object.fromEntries(
        Object.entries(body.users as Json).map(([id, u]) => [id, view.user(u as Json)]),
      );
    },
    async partialUpdateUser(id, { custom, unset }) {
      const response = await client.updateUsersPartial({
        users: [{ id, set: custom ? { custom } : {}, unset }],
      });
      return view.user((promised(response, 'UpdateUsersResponse').users as Json)[id] as Json);
    },
    async queryUsers(filter, sort) {
      const response = await client.queryUsers({ payload: { filter_conditions: filter, sort } });
      return (promised(response, 'QueryUsersResponse').users as Json[]).map(view.user);
    },
    async getOrCreateChannel(type, id, data) {
      const response = await channelOf(type, id).getOrCreate({
        data: {
          created_by_id: data.createdBy,
          members: data.members.map((user_id) => ({ user_id })),
          custom: data.custom,
        },
      });
      return view.state(promised(response, 'ChannelStateResponse'));
    },
    async queryChannels(filter, sort) {
      const response = await client.chat.queryChannels({ filter_conditions: filter, sort });
      return (promised(response, 'QueryChannelsResponse').channels as Json[]).map(view.state);
    },
    async partialUpdateChannel(type, id, { custom, unset }) {
      const response = await channelOf(type, id).updateChannelPartial({
        set: custom ? { custom } : {},
        unset,
      });
      return view.channel(promised(response, 'UpdateChannelPartialResponse').channel as Json);
    },
    async truncateChannel(type, id, userId) {
      const response = await channelOf(type, id).truncate({ user_id: userId });
      return view.channel(promised(response, 'TruncateChannelResponse').channel as Json);
    },
    async deleteChannel(type, id, hard) {
      const response = await channelOf(type, id).delete({ hard_delete: hard });
      return view.channel(promised(response, 'DeleteChannelResponse').channel as Json);
    },
    async sendMessage(type, id, m) {
      const message = { id: m.id, text: m.text, user_id: m.userId, parent_id: m.parentId, custom: m.custom };
      const response = await channelOf(type, id).sendMessage({ message });
      return view.message(promised(response, 'SendMessageResponse').message as Json);
    },
    async updateMessage(id, m) {
      const response = await client.chat.updateMessage({
        id,
        message: { text: m.text, user_id: m.userId, custom: m.custom },
      });
      return view.message(promised(response, 'UpdateMessageResponse').message as Json);
    },
    async partialUpdateMessage(id, { userId, text, custom, unset }) {
      const set = { ...(custom ? { custom } : {}), ...(text === undefined ? {} : { text }) };
      const response = await client.chat.updateMessagePartial({ id, user_id: userId, set, unset });
      return view.message(promised(response, 'UpdateMessagePartialResponse').message as Json);
    },
    async deleteMessage(id) {
      const response = await client.chat.deleteMessage({ id });
      return view.message(promised(response, 'DeleteMessageResponse').message as Json);
    },
    async sendReaction(messageId, r) {
      const response = await client.chat.sendReaction({
        id: messageId,
        reaction: { type: r.type, user_id: r.userId, custom: r.custom },
      });
      const body = promised(response, 'SendReactionResponse');
      return { message: view.message(body.message as Json), reaction: view.reaction(body.reaction as Json) };
    },
    async exportChannels(channels, version) {
      const response = await client.chat.exportChannels({ channels, version });
      return promised(response, 'ExportChannelsResponse').task_id as string;
    },
    async getTask(id) {
      const task = promised(await client.getTask({ id }), 'GetTaskResponse');
      return {
        status: task.status as string,
        url: (task.result as Json | undefined)?.url as string | undefined,
      };
    },
    async exportUser(id) {
      const body = promised(await client.exportUser({ user_id: id }), 'ExportUserResponse');
      return {
        user: view.user(body.user as Json),
        messages: (body.messages as Json[]).map(view.message),
        reactions: (body.reactions as Json[]).map(view.reaction),
      };
    },
    async exportUsers(ids) {
      return promised(await client.exportUsers({ user_ids: ids }), 'ExportUsersResponse').task_id as string;
    },
    async deleteUsers(ids, mode) {
      const response = await client.deleteUsers({ user_ids: ids, user: mode, messages: mode });
      return promised(response, 'DeleteUsersResponse').task_id as string;
    },
    // The SDK's StreamError (not exported by the package): an Error carrying Stream's code.
    errorCode: (error) =>
      error instanceof Error && /^Stream error code \d+:/.test(error.message)
        ? (error as Error & { code?: number }).code
        : undefined,
  };
}

export const SDKS = ['stream-chat', '@stream-io/node-sdk'] as const;
export type SdkName = (typeof SDKS)[number];

/** A driver of the named SDK for an app of the test server: `stream-chat` with `baseURL`, the node SDK with `basePath`. */
export function sdkDriver(sdk: SdkName, t: TestServer, app: TestApp): SdkDriver {
  if (sdk === 'stream-chat') return streamChatDriver(sdkClient(app.apiKey, app.apiSecret, t.baseURL));
  return nodeSdkDriver(new StreamClient(app.apiKey, app.apiSecret, { basePath: t.baseURL, timeout: 20_000 }));
}

/** The Stream code of a call through `driver` expected to fail. */
export async function failureCode(
  driver: Pick<SdkDriver, 'errorCode'>,
  call: Promise<unknown>,
): Promise<number | undefined> {
  try {
    await call;
  } catch (error) {
    return driver.errorCode(error);
  }
  throw new Error('expected the call to fail');
}
