import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { rawRequest, signToken } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe.each(testDialects)('bad input gets Stream’s error body and changes nothing (%s)', (dialect) => {
  let t: TestServer;
  let token: string;
  const call = (
    method: string,
    path: string,
    options: { body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ) => rawRequest(t.baseURL, method, path, { apiKey: t.app.apiKey, token, ...options });

  async function snapshot() {
    const db = t.server.context.db;
    const count = async (table: 'users' | 'channels' | 'members' | 'messages' | 'reactions') =>
      Number((await db.selectFrom(table).select(db.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    return {
      users: await count('users'),
      channels: await count('channels'),
      members: await count('members'),
      messages: await count('messages'),
      reactions: await count('reactions'),
      message: (await t.app.client.getMessage('m1')).message,
    };
  }

  beforeAll(async () => {
    t = await startTestServer(dialect, { env: { CHATPORT_BODY_LIMIT: '65536' } });
    token = await signToken(t.app.apiSecret, { server: true });
    await t.app.client.upsertUsers([{ id: 'ann' }]);
    await t.app.client
      .channel('messaging', 'c1', { created_by_id: 'ann', members: ['ann'] } as never)
      .create();
    await t.app.client.channel('messaging', 'c1').sendMessage({ id: 'm1', text: 'original', user_id: 'ann' });
  });
  afterAll(() => t.close());

  it('malformed JSON is 400 code 4 naming the body', async () => {
    const before = await snapshot();
    const response = await call('POST', '/users', { rawBody: '{"users": {' });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      code: 4,
      StatusCode: 400,
      exception_fields: { body: expect.any(String) },
    });
    expect(response.body.message).toMatch(/^UpdateUsers failed with error: "/);
    expect(await snapshot()).toEqual(before);
  });

  it('wrong types are 400 code 4 with exception_fields naming the field, never coerced', async () => {
    const before = await snapshot();
    const text = await call('POST', '/channels/messaging/c1/message', {
      body: { message: { text: 123, user_id: 'ann' } },
    });
    expect([text.status, text.body.code]).toEqual([400, 4]);
    expect(text.body.exception_fields).toHaveProperty(['message.text']);
    const users = await call('POST', '/users', { body: { users: 'ann' } });
    expect([users.status, users.body.code]).toEqual([400, 4]);
    expect(users.body.exception_fields).toHaveProperty(['users']);
    const limit = await call('POST', '/channels', { body: { limit: 'ten' } });
    expect([limit.status, limit.body.code]).toEqual([400, 4]);
    expect(limit.body.exception_fields).toHaveProperty(['limit']);
    const hard = await call('POST', '/messages/m1/reaction', {
      body: { reaction: { type: 'like', user_id: 'ann', score: 'lots' } },
    });
    expect([hard.status, hard.body.code]).toEqual([400, 4]);
    expect(await snapshot()).toEqual(before);
  });

  it('missing required fields are 400 code 4 naming them', async () => {
    const noMessage = await call('POST', '/channels/messaging/c1/message', { body: {} });
    expect([noMessage.status, noMessage.body.code]).toEqual([400, 4]);
    expect(noMessage.body.exception_fields).toHaveProperty(['message']);
    const noUser = await call('POST', '/channels/messaging/c1/message', {
      body: { message: { text: 'who am i' } },
    });
    expect([noUser.status, noUser.body.code]).toEqual([400, 4]);
    expect(noUser.body.exception_fields).toHaveProperty(['message.user_id']);
    const noUserId = await call('POST', '/users', { body: { users: { x: { name: 'no id' } } } });
    expect([noUserId.status, noUserId.body.code]).toEqual([400, 4]);
    expect(noUserId.body.exception_fields).toHaveProperty(['users.x.id']);
  });

  it('unknown channels and messages are 404 code 16; unknown users in a body are 400 code 4', async () => {
    const before = await snapshot();
    const channel = await call('POST', '/channels/messaging/nope/message', {
      body: { message: { text: 'x', user_id: 'ann' } },
    });
    expect([channel.status, channel.body.code]).toEqual([404, 16]);
    const message = await call('POST', '/messages/nope/reaction', {
      body: { reaction: { type: 'like', user_id: 'ann' } },
    });
    expect([message.status, message.body.code]).toEqual([404, 16]);
    const user = await call('POST', '/messages/m1/reaction', {
      body: { reaction: { type: 'like', user_id: 'nobody' } },
    });
    expect([user.status, user.body.code]).toEqual([400, 4]);
    const member = await call('POST', '/channels/messaging/c1', { body: { add_members: ['nobody'] } });
    expect([member.status, member.body.code]).toEqual([400, 4]);
    expect(await snapshot()).toEqual(before);
  });

  it('an oversized body is 413 code 22', async () => {
    const response = await call('POST', '/channels/messaging/c1/message', {
      body: { message: { text: 'x'.repeat(100_000), user_id: 'ann' } },
    });
    expect([response.status, response.body.code]).toEqual([413, 22]);
  });

  it('prototype-poisoning keys are refused', async () => {
    const response = await call('POST', '/users', {
      rawBody: '{"users":{"p":{"id":"p","__proto__":{"role":"admin"}}}}',
    });
    expect([response.status, response.body.code]).toEqual([400, 4]);
  });

  it('no garbage body on any endpoint produces a 500', async () => {
    const routes: Array<[string, string]> = [
      ['POST', '/users'],
      ['PATCH', '/users'],
      ['POST', '/users/restore'],
      ['POST', '/channels'],
      ['POST', '/channels/messaging/c1/query'],
      ['POST', '/channels/messaging/query'],
      ['POST', '/channels/messaging/c1'],
      ['PATCH', '/channels/messaging/c1'],
      ['POST', '/channels/messaging/c1/truncate'],
      ['POST', '/channels/messaging/c1/message'],
      ['POST', '/messages/m1'],
      ['PUT', '/messages/m1'],
      ['POST', '/messages/m1/undelete'],
      ['POST', '/messages/m1/reaction'],
    ];
    const garbage: unknown[] = [
      null,
      [],
      'text',
      42,
      { users: [1, 2] },
      { message: null },
      { message: { text: 'x', user_id: 'ann', mentioned_users: [{}] } },
      { message: { text: 'x', user_id: 'ann', attachments: 'pic' } },
      { message: { text: 'x', user_id: 'ann', parent_id: 5 } },
      { data: { members: [null] } },
      { data: 'x' },
      { filter_conditions: { cid: { $regex: '.*' } } },
      { filter_conditions: { created_at: { $gt: 'yesterday' } } },
      { sort: [{ field: 'drop table', direction: 1 }] },
      { set: { id: 'other' } },
      { truncated_at: 'not a date' },
      { reaction: { type: '' } },
      { users: { a: { id: 'b' } } },
      { users: [{ id: 'ann', set: 'x' }] },
      { user_ids: [] },
      { message: { text: 'nul \u0000 inside', user_id: 'ann' } },
      { reaction: { type: 'like', user_id: 'ann', score: 1e300 } },
      { message: { id: 'x'.repeat(5000), text: 'long id', user_id: 'ann' } },
      { data: { created_by_id: 'ann', members: ['ann'], nested: { deep: { deeper: [1, { a: null }] } } } },
    ];
    for (const [method, path] of routes) {
      for (const body of garbage) {
        const response = await call(method, path, { rawBody: JSON.stringify(body) });
        expect(response.status, `${method} ${path} ${JSON.stringify(body)}`).toBeLessThan(500);
        if (response.status >= 400) expect(response.body).toHaveProperty('code');
      }
    }
    const queryGarbage = ['%7B', '"x"', '[]', '{"filter_conditions":{"id":{"$in":"x"}}}', '{"limit":-1}'];
    for (const payload of queryGarbage) {
      const response = await call('GET', `/users?payload=${payload}`);
      expect(response.status, payload).toBe(400);
      expect(response.body.code).toBe(4);
    }
    expect((await t.app.client.getMessage('m1')).message.text).toBe('original');
  });
});
