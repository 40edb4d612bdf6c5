import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { expectStreamError } from '../helpers/assertions.js';
import { startTestServer, type TestApp, type TestServer } from '../helpers/test-server.js';

describe.each(testDialects)('apps are isolated from each other (%s)', (dialect) => {
  let t: TestServer;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    t = await startTestServer(dialect);
    a = t.app;
    b = await t.createTestApp('other');
    await a.client.upsertUsers([{ id: 'shared-id', name: 'from A' }]);
    await a.client
      .channel('messaging', 'secret', { created_by_id: 'shared-id', members: ['shared-id'] } as never)
      .create();
    await a.client
      .channel('messaging', 'secret')
      .sendMessage({ id: 'a-msg', text: 'for A only', user_id: 'shared-id' });
  });
  afterAll(() => t.close());

  it("app B cannot read app A's users, channels or messages", async () => {
    expect((await b.client.queryUsers({ id: 'shared-id' })).users).toEqual([]);
    expect(await b.client.queryChannels({ cid: 'messaging:secret' })).toEqual([]);
    await expectStreamError(b.client.getMessage('a-msg'), { status: 404, code: 16 });
  });

  it("app B cannot change app A's data, even with the same ids", async () => {
    await expectStreamError(b.client.partialUpdateUser({ id: 'shared-id', set: { name: 'hijacked' } }), {
      status: 404,
      code: 16,
    });
    await expectStreamError(b.client.deleteMessage('a-msg', true), { status: 404, code: 16 });
    await expectStreamError(b.client.channel('messaging', 'secret').delete(), { status: 404, code: 16 });
    await b.client.upsertUsers([{ id: 'shared-id', name: 'from B' }]);
    expect((await a.client.queryUsers({ id: 'shared-id' })).users[0]).toMatchObject({ name: 'from A' });
    expect((await b.client.queryUsers({ id: 'shared-id' })).users[0]).toMatchObject({ name: 'from B' });
    expect((await a.client.getMessage('a-msg')).message.text).toBe('for A only');
  });

  it("app A's token is refused with app B's key", async () => {
    const mixed = new (await import('stream-chat')).StreamChat(b.apiKey, a.apiSecret, { baseURL: t.baseURL });
    await expectStreamError(mixed.queryUsers({ id: 'shared-id' }), { status: 401, code: 43 });
  });
});
