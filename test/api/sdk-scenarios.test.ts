/**
 * The data and export calls of a migration, run through both official SDKs unchanged: `stream-chat`
 * against the root paths (custom data flattened) and `@stream-io/node-sdk` against `/api/v2/...`
 * (custom data nested, every response held to the SDK's types). The drivers read both back into one
 * view, so every expectation below holds for both.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { parseV2, type V1Record } from '../helpers/exports.js';
import { failureCode, SDKS, sdkDriver, type SdkDriver } from '../helpers/sdk-drivers.js';
import type { TaskView } from '../helpers/sdk-views.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

async function finished(d: SdkDriver, taskId: string): Promise<TaskView> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const task = await d.getTask(taskId);
    if (task.status === 'completed' || task.status === 'failed') return task;
    if (Date.now() > deadline) throw new Error(`task ${taskId} still ${task.status}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function download(d: SdkDriver, taskId: string): Promise<string> {
  const task = await finished(d, taskId);
  expect(task.status).toBe('completed');
  const response = await fetch(task.url!);
  expect(response.status).toBe(200);
  return response.text();
}

describe.each(testDialects)('the same scenarios through both SDKs (%s)', (dialect) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(dialect);
  });
  afterAll(() => t.close());

  describe.each(SDKS)('%s', (sdk) => {
    let d: SdkDriver;
    beforeAll(async () => {
      d = sdkDriver(sdk, t, await t.createTestApp(sdk));
    });

    it('upserts users with custom data, kept apart from the known fields', async () => {
      const users = await d.upsertUsers([
        { id: 'ann', name: 'Ann', custom: { color: 'red', pets: ['cat'] } },
        { id: 'ben', name: 'Ben' },
        { id: 'cat' },
        { id: 'dan', custom: { nested: { a: 1 } } },
      ]);
      expect(users.ann).toEqual({
        id: 'ann',
        role: 'user',
        name: 'Ann',
        custom: { color: 'red', pets: ['cat'] },
        deletedAt: undefined,
      });
      expect(users.cat!.custom).toEqual({});
      expect(users.dan!.custom).toEqual({ nested: { a: 1 } });
    });

    it('gets or creates a channel with members and custom data', async () => {
      const data = {
        createdBy: 'ann',
        members: ['ann', 'ben', 'cat'],
        custom: { name: 'General', topic: 'all' },
      };
      const state = await d.getOrCreateChannel('messaging', 'general', data);
      expect(state.channel).toEqual({
        cid: 'messaging:general',
        custom: { name: 'General', topic: 'all' },
        createdBy: 'ann',
        truncatedAt: undefined,
        deletedAt: undefined,
      });
      expect(state.members.map((m) => m.userId).sort()).toEqual(['ann', 'ben', 'cat']);
      expect(state.messages).toEqual([]);
      const again = await d.getOrCreateChannel('messaging', 'general', data);
      expect(again.members).toHaveLength(3);
    });

    it('sends a message with custom data and a thread reply to it', async () => {
      const message = await d.sendMessage('messaging', 'general', {
        id: 'm1',
        text: 'hello',
        userId: 'ann',
        custom: { mood: 'happy', score: 1.5 },
      });
      expect(message).toMatchObject({ id: 'm1', text: 'hello', type: 'regular', userId: 'ann' });
      expect(message.custom).toEqual({ mood: 'happy', score: 1.5 });
      const reply = await d.sendMessage('messaging', 'general', {
        id: 'm2',
        text: 'hi',
        userId: 'ben',
        parentId: 'm1',
      });
      expect(reply).toMatchObject({ id: 'm2', type: 'reply', parentId: 'm1', custom: {} });
    });

    it('reacts to a message with custom data', async () => {
      const { message, reaction } = await d.sendReaction('m1', {
        type: 'like',
        userId: 'ben',
        custom: { note: 'nice' },
      });
      expect(reaction).toEqual({
        messageId: 'm1',
        userId: 'ben',
        type: 'like',
        score: 1,
        custom: { note: 'nice' },
      });
      expect(message.latestReactions).toEqual([reaction]);
      expect(message.replyCount).toBe(1);
    });

    it('updates a message fully, then partially (text and custom data)', async () => {
      const full = await d.updateMessage('m1', {
        text: 'hello again',
        userId: 'ann',
        custom: { mood: 'calm', keep: 1 },
      });
      expect(full).toMatchObject({ text: 'hello again', custom: { mood: 'calm', keep: 1 } });
      const partial = await d.partialUpdateMessage('m1', {
        userId: 'ann',
        text: 'edited',
        custom: { extra: true },
        unset: ['mood'],
      });
      expect(partial).toMatchObject({ text: 'edited', custom: { keep: 1, extra: true } });
    });

    it('partially updates a user and a channel: custom data merged, a key unset, nothing else lost', async () => {
      const user = await d.partialUpdateUser('ann', { custom: { color: 'blue', size: 3 }, unset: ['pets'] });
      expect(user).toMatchObject({ name: 'Ann', custom: { color: 'blue', size: 3 } });
      const [stored] = await d.queryUsers({ id: 'ann' });
      expect(stored!.custom).toEqual({ color: 'blue', size: 3 });
      const channel = await d.partialUpdateChannel('messaging', 'general', {
        custom: { level: 2 },
        unset: ['topic'],
      });
      expect(channel.custom).toEqual({ name: 'General', level: 2 });
    });

    it('soft-deletes a message, keeping it as type deleted', async () => {
      const deleted = await d.deleteMessage('m2');
      expect(deleted).toMatchObject({ id: 'm2', type: 'deleted', text: 'hi' });
      expect(deleted.deletedAt).toBeDefined();
    });

    it('queries channels and users', async () => {
      const channels = await d.queryChannels({ type: 'messaging' });
      expect(channels.map((c) => c.channel.cid)).toEqual(['messaging:general']);
      expect(channels[0]!.channel.custom).toEqual({ name: 'General', level: 2 });
      expect(channels[0]!.messages.map((m) => [m.id, m.custom])).toEqual([['m1', { keep: 1, extra: true }]]);
      const users = await d.queryUsers({ id: { $in: ['ben', 'ann', 'dan'] } }, [
        { field: 'id', direction: -1 },
      ]);
      expect(users.map((u) => [u.id, u.name, u.custom])).toEqual([
        ['dan', undefined, { nested: { a: 1 } }],
        ['ben', 'Ben', {}],
        ['ann', 'Ann', { color: 'blue', size: 3 }],
      ]);
    });

    it('exports the channel as v1 and v2, polls the task and reads the file', async () => {
      const v1 = JSON.parse(
        await download(d, await d.exportChannels([{ type: 'messaging', id: 'general' }], 'v1')),
      ) as V1Record[];
      expect(v1[0]!.channel).toMatchObject({ cid: 'messaging:general', name: 'General', level: 2 });
      expect(v1[0]!.messages.map((m) => [m.id, m.extra, m.type])).toEqual([
        ['m1', true, 'regular'],
        ['m2', undefined, 'deleted'],
      ]);
      const v2 = parseV2(
        await download(d, await d.exportChannels([{ type: 'messaging', id: 'general' }], 'v2')),
      );
      expect(v2.map((line) => line.type)).toEqual([
        'channel',
        'member',
        'member',
        'member',
        'message',
        'message',
        'reaction',
      ]);
      expect(v2.find((line) => line.type === 'reaction')!.data).toMatchObject({
        user_id: 'ben',
        note: 'nice',
      });
    });

    it('exports a user synchronously, and users asynchronously to a file', async () => {
      const ben = await d.exportUser('ben');
      expect(ben.user).toMatchObject({ id: 'ben', name: 'Ben' });
      expect(ben.messages.map((m) => [m.id, m.type])).toEqual([['m2', 'deleted']]);
      expect(ben.reactions).toEqual([
        { messageId: 'm1', userId: 'ben', type: 'like', score: 1, custom: { note: 'nice' } },
      ]);
      const lines = parseV2(await download(d, await d.exportUsers(['ann', 'ben'])));
      expect(lines.filter((line) => line.type === 'user').map((line) => line.data.id)).toEqual([
        'ann',
        'ben',
      ]);
    });

    it('truncates, soft-deletes and hard-deletes channels', async () => {
      const truncated = await d.truncateChannel('messaging', 'general', 'ann');
      expect(truncated.truncatedAt).toBeDefined();
      const after = await d.getOrCreateChannel('messaging', 'general', { createdBy: 'ann', members: [] });
      expect(after.messages).toEqual([]);
      await d.getOrCreateChannel('messaging', 'soft', { createdBy: 'ben', members: ['ben'] });
      await d.getOrCreateChannel('messaging', 'hard', { createdBy: 'ben', members: ['ben'] });
      expect((await d.deleteChannel('messaging', 'soft', false)).deletedAt).toBeDefined();
      await d.deleteChannel('messaging', 'hard', true);
      const left = await d.queryChannels({
        cid: { $in: ['messaging:soft', 'messaging:hard', 'messaging:general'] },
      });
      expect(left.map((c) => c.channel.cid)).toEqual(['messaging:general']);
    });

    it('deletes users by a task', async () => {
      expect((await finished(d, await d.deleteUsers(['dan'], 'hard'))).status).toBe('completed');
      expect(await d.queryUsers({ id: 'dan' })).toEqual([]);
      expect((await finished(d, await d.deleteUsers(['cat'], 'soft'))).status).toBe('completed');
      expect((await d.queryUsers({ id: 'cat' }))[0]!.deletedAt).toBeDefined();
    });

    it('answers unknown ids with code 16', async () => {
      expect(await failureCode(d, d.partialUpdateUser('nobody', { custom: { a: 1 } }))).toBe(16);
      expect(await failureCode(d, d.getTask(crypto.randomUUID()))).toBe(16);
      expect(await failureCode(d, d.sendMessage('messaging', 'nowhere', { text: 'x', userId: 'ann' }))).toBe(
        16,
      );
      expect(await failureCode(d, d.partialUpdateChannel('messaging', 'nowhere', { custom: { a: 1 } }))).toBe(
        16,
      );
      expect(await failureCode(d, d.updateMessage('nothing', { text: 'x', userId: 'ann' }))).toBe(16);
      expect(await failureCode(d, d.deleteMessage('nothing'))).toBe(16);
      expect(await failureCode(d, d.exportUser('nobody'))).toBe(16);
    });
  });
});
