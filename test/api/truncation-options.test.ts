/**
 * Truncate and delete options through the `stream-chat` SDK, on both databases: truncation for some
 * members only (`member_ids`), a `truncated_at` that would bring hidden messages back (refused), and
 * `skip_truncate`, which keeps a distinct channel's history when it is created again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamChat } from 'stream-chat';
import { streamFailure } from '../helpers/assertions.js';
import { testDialects } from '../helpers/databases.js';
import { exportAndDownload, waitForTask, type V1Record } from '../helpers/exports.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe.each(testDialects)('truncate and delete options (%s)', (dialect) => {
  let t: TestServer;
  let client: StreamChat;
  const messageIds = async (cid: string, userId?: string) => {
    // The raw answer: the SDK's Channel objects merge the messages of every earlier query.
    const [state] = await client.queryChannelsRequest({ cid }, {}, userId ? { user_id: userId } : {});
    return state!.messages.map((m) => m.id);
  };

  beforeAll(async () => {
    t = await startTestServer(dialect);
    client = t.app.client;
    await client.upsertUsers([{ id: 'ann' }, { id: 'bob' }, { id: 'cy' }]);
  });
  afterAll(() => t.close());

  it('truncating for some members hides the history from them alone', async () => {
    const channel = client.channel('messaging', 'some', {
      created_by_id: 'ann',
      members: ['ann', 'bob'],
    } as never);
    await channel.create();
    await channel.sendMessage({ id: 'some-1', text: 'one', user_id: 'ann' });
    await channel.sendMessage({ id: 'some-2', text: 'two', user_id: 'bob' });
    const { channel: after } = await channel.truncate({ member_ids: ['bob'] } as never);
    expect(after.truncated_at).toBeUndefined();
    await channel.sendMessage({ id: 'some-3', text: 'three', user_id: 'ann' });
    expect(await messageIds('messaging:some', 'bob')).toEqual(['some-3']);
    expect(await messageIds('messaging:some', 'ann')).toEqual(['some-1', 'some-2', 'some-3']);
    expect(await messageIds('messaging:some')).toEqual(['some-1', 'some-2', 'some-3']);
    const [asBob] = await client.queryChannelsRequest({ cid: 'messaging:some' }, {}, { user_id: 'bob' });
    expect(asBob!.membership?.user?.id).toBe('bob');
    // The channel's export is the channel's record: one member's truncation hides nothing from it.
    const { text } = await exportAndDownload(client, [{ type: 'messaging', id: 'some' }]);
    const [record] = JSON.parse(text) as V1Record[];
    expect(record!.messages.map((m) => m.id)).toEqual(['some-1', 'some-2', 'some-3']);
  });

  it('refuses member truncation of non-members, with hard_delete, or moving a member’s truncation back', async () => {
    const channel = client.channel('messaging', 'some');
    expect(await streamFailure(channel.truncate({ member_ids: ['cy'] } as never))).toMatchObject({
      status: 400,
      code: 4,
      fields: { member_ids: expect.stringContaining('cy') },
    });
    expect(
      await streamFailure(channel.truncate({ member_ids: ['bob'], hard_delete: true } as never)),
    ).toMatchObject({
      status: 400,
      fields: { hard_delete: expect.any(String) },
    });
    const past = new Date(Date.now() - 3_600_000).toISOString();
    expect(
      await streamFailure(channel.truncate({ member_ids: ['bob'], truncated_at: past } as never)),
    ).toMatchObject({
      status: 400,
      fields: { truncated_at: expect.stringContaining('bob') },
    });
    expect(await messageIds('messaging:some', 'bob')).toEqual(['some-3']);
    expect(await messageIds('messaging:some', 'ann')).toEqual(['some-1', 'some-2', 'some-3']);
  });

  it('a truncated_at earlier than the channel’s current truncation is refused and brings nothing back', async () => {
    const channel = client.channel('messaging', 'back', { created_by_id: 'ann', members: ['ann'] } as never);
    await channel.create();
    await channel.sendMessage({ id: 'back-1', text: 'one', user_id: 'ann' });
    const { channel: truncated } = await channel.truncate();
    const before = new Date(Date.parse(truncated.truncated_at as string) - 60_000).toISOString();
    expect(await streamFailure(channel.truncate({ truncated_at: before as never }))).toMatchObject({
      status: 400,
      code: 4,
      fields: { truncated_at: expect.stringContaining('earlier') },
    });
    const [state] = await client.queryChannels({ cid: 'messaging:back' });
    expect(state!.data!.truncated_at).toBe(truncated.truncated_at);
    expect(await messageIds('messaging:back')).toEqual([]);
    await channel.sendMessage({ id: 'back-2', text: 'two', user_id: 'ann' });
    await channel.truncate({ truncated_at: truncated.truncated_at as never });
    expect(await messageIds('messaging:back')).toEqual(['back-2']);
  });

  it('skip_truncate keeps a distinct channel’s history when it is created again; a plain delete does not', async () => {
    const kept = client.channel('messaging', { members: ['ann', 'bob'], created_by_id: 'ann' } as never);
    await kept.create();
    await kept.sendMessage({ id: 'kept-1', text: 'hi', user_id: 'ann' });
    await kept.delete({ skip_truncate: true } as never);
    const again = await client
      .channel('messaging', { members: ['ann', 'bob'], created_by_id: 'ann' } as never)
      .create();
    expect(again.channel.id).toBe(kept.id);
    expect(again.messages.map((m) => m.id)).toEqual(['kept-1']);
    expect(again.channel.truncated_at).toBeUndefined();

    await kept.delete();
    const emptied = await client
      .channel('messaging', { members: ['ann', 'bob'], created_by_id: 'ann' } as never)
      .create();
    expect(emptied.messages).toEqual([]);
  });

  it('POST /channels/delete with skip_truncate keeps the history too', async () => {
    const channel = client.channel('messaging', { members: ['ann', 'cy'], created_by_id: 'ann' } as never);
    await channel.create();
    await channel.sendMessage({ id: 'many-1', text: 'hi', user_id: 'cy' });
    const { task_id } = await client.deleteChannels([channel.cid], { skip_truncate: true } as never);
    expect(task_id).toBeDefined();
    const task = await waitForTask(client, task_id!);
    expect(task.status).toBe('completed');
    const again = await client
      .channel('messaging', { members: ['ann', 'cy'], created_by_id: 'ann' } as never)
      .create();
    expect(again.messages.map((m) => m.id)).toEqual(['many-1']);
  });

  it('skip_truncate is refused on channels with an id, with hard_delete, and once the history was hidden', async () => {
    const named = client.channel('messaging', 'named', { created_by_id: 'ann' } as never);
    await named.create();
    expect(await streamFailure(named.delete({ skip_truncate: true } as never))).toMatchObject({
      status: 400,
      code: 4,
      fields: { skip_truncate: expect.stringContaining('distinct') },
    });
    expect(
      await streamFailure(client.deleteChannels(['messaging:named'], { skip_truncate: true } as never)),
    ).toMatchObject({
      status: 400,
      fields: { skip_truncate: expect.any(String) },
    });
    const distinct = client.channel('messaging', { members: ['bob', 'cy'], created_by_id: 'bob' } as never);
    await distinct.create();
    expect(
      await streamFailure(distinct.delete({ skip_truncate: true, hard_delete: true } as never)),
    ).toMatchObject({
      status: 400,
      fields: { skip_truncate: expect.stringContaining('hard_delete') },
    });
    await distinct.truncate();
    expect(await streamFailure(distinct.delete({ skip_truncate: true } as never))).toMatchObject({
      status: 400,
      fields: { skip_truncate: expect.any(String) },
    });
    const [still] = await client.queryChannels({ cid: distinct.cid });
    expect(still!.data!.deleted_at).toBeUndefined();
  });
});
