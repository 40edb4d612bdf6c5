import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { expectStreamError } from '../helpers/assertions.js';
import { waitForTask } from '../helpers/exports.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe.each(testDialects)('deleting many users and channels as tasks (%s)', (dialect) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(dialect);
    const c = t.app.client;
    await c.upsertUsers(['keep', 'soft-1', 'soft-2', 'hard-1', 'heir'].map((id) => ({ id })));
    const room = c.channel('messaging', 'room', {
      created_by_id: 'hard-1',
      members: ['keep', 'hard-1', 'soft-1'],
    } as never);
    await room.create();
    await room.sendMessage({ id: 'by-hard', text: 'x', user_id: 'hard-1' });
    await room.sendMessage({ id: 'by-soft', text: 'y', user_id: 'soft-1' });
    await room.sendMessage({ id: 'by-keep', text: 'z', user_id: 'keep' });
    await room.sendReaction('by-keep', { type: 'like', user_id: 'hard-1' });
  });
  afterAll(() => t.close());

  it('soft-deletes users with their messages soft-deleted, reporting each user in the task result', async () => {
    const { task_id } = await t.app.client.deleteUsers(['soft-1', 'soft-2', 'ghost'], {
      user: 'soft',
      messages: 'soft',
    });
    const task = await waitForTask(t.app.client, task_id);
    expect(task.status).toBe('completed');
    expect(task.result).toEqual({
      users: {
        'soft-1': { status: 'ok' },
        'soft-2': { status: 'ok' },
        ghost: { status: 'error', error: 'user does not exist' },
      },
    });
    const users = await t.app.client.queryUsers({ id: { $in: ['soft-1', 'soft-2'] } });
    expect(users.users.every((u) => u.deleted_at)).toBe(true);
    expect((await t.app.client.getMessage('by-soft')).message.type).toBe('deleted');
  });

  it('hard-deletes users with their messages and reactions, handing their channels to a new owner', async () => {
    const { task_id } = await t.app.client.deleteUsers(['hard-1'], {
      user: 'hard',
      messages: 'hard',
      new_channel_owner_id: 'heir',
    });
    const task = await waitForTask(t.app.client, task_id);
    expect(task.status).toBe('completed');
    expect((await t.app.client.queryUsers({ id: 'hard-1' })).users).toEqual([]);
    await expectStreamError(t.app.client.getMessage('by-hard'), { status: 404, code: 16 });
    const kept = await t.app.client.getMessage('by-keep');
    expect(kept.message.reaction_counts).toEqual({});
    const [room] = await t.app.client.queryChannels({ cid: 'messaging:room' });
    expect(room!.data!.created_by).toMatchObject({ id: 'heir' });
    expect(room!.data!.member_count).toBe(2);
  });

  it('refuses a new channel owner that does not exist, queueing nothing', async () => {
    await expectStreamError(
      t.app.client.deleteUsers(['keep'], { user: 'soft', new_channel_owner_id: 'nobody' } as never),
      {
        status: 400,
        code: 4,
      },
    );
    expect((await t.app.client.queryUsers({ id: 'keep' })).users[0]!.deleted_at).toBeUndefined();
  });

  it('deletes many channels, soft or hard, reporting each cid', async () => {
    const c = t.app.client;
    for (const id of ['a', 'b', 'c'])
      await c.channel('team', id, { created_by_id: 'keep' } as never).create();
    await c.channel('team', 'c').sendMessage({ id: 'in-c', text: 'x', user_id: 'keep' });
    const soft = await waitForTask(c, (await c.deleteChannels(['team:a', 'team:b'])).task_id!);
    expect(soft.result).toEqual({ result: { 'team:a': { status: 'ok' }, 'team:b': { status: 'ok' } } });
    expect(await c.queryChannels({ type: 'team' })).toHaveLength(1);
    const hard = await waitForTask(
      c,
      (await c.deleteChannels(['team:c', 'team:nope'], { hard_delete: true })).task_id!,
    );
    expect(hard.result!.result).toMatchObject({
      'team:c': { status: 'ok' },
      'team:nope': { status: 'error' },
    });
    await expectStreamError(c.getMessage('in-c'), { status: 404, code: 16 });
  });

  it('refuses an invalid cid with 400 code 4', async () => {
    await expectStreamError(t.app.client.deleteChannels(['not a cid']), { status: 400, code: 4 });
  });
});
