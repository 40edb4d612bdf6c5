/**
 * Disabled and frozen channels through the `stream-chat` SDK, on both databases: `queryChannels`
 * leaves disabled channels out unless the filter asks for them, and a frozen channel takes no new
 * messages or reactions (403 code 17), except the message that announces the freeze.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamChat } from 'stream-chat';
import { streamFailure } from '../helpers/assertions.js';
import { testDialects } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe.each(testDialects)('disabled and frozen channels (%s)', (dialect) => {
  let t: TestServer;
  let client: StreamChat;
  const ids = async (filter: Record<string, unknown>) =>
    (await client.queryChannelsRequest(filter, [{ cid: 1 }])).map((c) => c.channel.id);

  beforeAll(async () => {
    t = await startTestServer(dialect);
    client = t.app.client;
    await client.upsertUsers([{ id: 'ann' }, { id: 'bob' }]);
    for (const id of ['on', 'off', 'ice']) {
      await client.channel('team', id, { created_by_id: 'ann', members: ['ann', 'bob'] } as never).create();
    }
  });
  afterAll(() => t.close());

  it('queryChannels leaves disabled channels out unless the filter names disabled', async () => {
    await client.channel('team', 'off').update({ disabled: true });
    expect(await ids({ type: 'team' })).toEqual(['ice', 'on']);
    expect(await ids({ type: 'team', disabled: true })).toEqual(['off']);
    expect(await ids({ type: 'team', disabled: false })).toEqual(['ice', 'on']);
    expect(await ids({ $or: [{ disabled: true }, { id: 'on' }] })).toEqual(['off', 'on']);
    await client.channel('team', 'off').updatePartial({ set: { disabled: false } });
    expect(await ids({ type: 'team' })).toEqual(['ice', 'off', 'on']);
  });

  it('a frozen channel refuses new messages and reactions with 403 code 17, but announces its freeze', async () => {
    const channel = client.channel('team', 'ice');
    const { message } = await channel.sendMessage({ id: 'ice-1', text: 'before', user_id: 'ann' });
    await channel.sendReaction(message.id, { type: 'like', user_id: 'bob' });
    const update = await channel.update({ frozen: true }, {
      text: 'ann froze the channel',
      user_id: 'ann',
    } as never);
    expect(update.channel.frozen).toBe(true);
    expect(update.message?.text).toBe('ann froze the channel');

    const refused = await streamFailure(channel.sendMessage({ text: 'during', user_id: 'bob' }));
    expect(refused).toMatchObject({ status: 403, code: 17 });
    expect(refused.message).toMatch(/^SendMessage failed with error: ".*frozen/);
    expect(
      await streamFailure(channel.sendReaction('ice-1', { type: 'love', user_id: 'ann' })),
    ).toMatchObject({
      status: 403,
      code: 17,
    });
    expect(await streamFailure(channel.deleteReaction('ice-1', 'like', 'bob'))).toMatchObject({
      status: 403,
      code: 17,
    });
    const [state] = await client.queryChannelsRequest({ cid: 'team:ice' });
    expect(state!.messages.map((m) => m.text)).toEqual(['before', 'ann froze the channel']);
    expect(state!.messages[0]!.reaction_counts).toEqual({ like: 1 });

    await channel.updatePartial({ set: { frozen: false } });
    await channel.sendMessage({ id: 'ice-2', text: 'after', user_id: 'bob' });
    await channel.deleteReaction('ice-1', 'like', 'bob');
  });
});
