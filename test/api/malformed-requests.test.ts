import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { signToken } from '../helpers/raw-client.js';
import { rawHttp } from '../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe.each(testDialects)('NULs and malformed URLs and headers get Stream’s error body (%s)', (dialect) => {
  let t: TestServer;
  let token: string;

  /** Sends the request line exactly as written, with the app's server credentials unless told otherwise. */
  async function send(
    method: string,
    target: string,
    options: { headers?: Array<[string, string]>; auth?: boolean } = {},
  ) {
    const auth: Array<[string, string]> =
      options.auth === false
        ? []
        : [
            ['authorization', token],
            ['stream-auth-type', 'jwt'],
          ];
    const response = await rawHttp(Number(new URL(t.baseURL).port), {
      method,
      target,
      headers: [...auth, ...(options.headers ?? [])],
      body: method === 'POST' ? Buffer.from('{}') : undefined,
    });
    return {
      status: response.status,
      text: response.text,
      body: JSON.parse(response.text) as Record<string, unknown>,
    };
  }
  const withKey = (path: string) => `${path}${path.includes('?') ? '&' : '?'}api_key=${t.app.apiKey}`;

  async function snapshot() {
    const db = t.server.context.db;
    const count = async (table: 'users' | 'channels' | 'messages' | 'reactions') =>
      Number((await db.selectFrom(table).select(db.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    return {
      users: await count('users'),
      channels: await count('channels'),
      messages: await count('messages'),
      reactions: await count('reactions'),
    };
  }

  beforeAll(async () => {
    t = await startTestServer(dialect);
    token = await signToken(t.app.apiSecret, { server: true });
    await t.app.client.upsertUsers([{ id: 'ann' }]);
    await t.app.client
      .channel('messaging', 'c1', { created_by_id: 'ann', members: ['ann'] } as never)
      .create();
    await t.app.client.channel('messaging', 'c1').sendMessage({ id: 'm1', text: 'hello', user_id: 'ann' });
    await t.app.client
      .channel('messaging', 'c1')
      .sendReaction('m1', { type: 'like', user_id: 'ann' } as never);
  });
  afterAll(() => t.close());

  it('a NUL in a path id or a query value is 400 code 4 naming it, before any query, and changes nothing', async () => {
    const before = await snapshot();
    const cases: Array<[string, string, string]> = [
      ['GET', '/messages/a%00b', 'id'],
      ['GET', '/tasks/a%00b', 'id'],
      ['GET', '/export_channels/a%00b', 'id'],
      ['GET', '/users/a%00b/export', 'id'],
      ['DELETE', '/users/a%00b', 'id'],
      ['POST', '/channels/messaging/a%00b/query', 'id'],
      ['POST', '/channels/mess%00aging/query', 'type'],
      ['DELETE', '/messages/m1/reaction/li%00ke', 'type'],
      ['DELETE', '/messages/m1/reaction/like?user_id=a%00b', 'user_id'],
      ['GET', '/messages/m1/replies?id_lt=a%00b', 'id_lt'],
      ['DELETE', '/messages/m1?deleted_by=%00', 'deleted_by'],
      ['GET', '/users?payload=%00', 'payload'],
      ['GET', '/messages/m1?x%00y=1', 'query'],
    ];
    for (const [method, path, field] of cases) {
      const response = await send(method, withKey(path));
      expect([response.status, response.body.code], `${method} ${path}: ${response.text}`).toEqual([400, 4]);
      expect(response.body.exception_fields).toHaveProperty([field], 'contains a NUL character');
    }
    expect(await snapshot()).toEqual(before);
  });

  it('a NUL in the api_key is 401 code 2, with or without credentials', async () => {
    for (const auth of [true, false]) {
      const response = await send('GET', '/users?api_key=%00', { auth });
      expect([response.status, response.body.code]).toEqual([401, 2]);
      const inside = await send('GET', `/messages/m1?api_key=${t.app.apiKey}%00`, { auth });
      expect([inside.status, inside.body.code]).toEqual([401, 2]);
    }
  });

  it('malformed percent-encoding is 400 code 4 naming the url, which is not echoed back', async () => {
    for (const path of [
      '/messages/%E0%A4%A',
      '/messages/%zz',
      '/tasks/%',
      '/users/%C0%80/export',
      '/messages/m1/reaction/%FF',
    ]) {
      const response = await send(path.endsWith('%FF') ? 'DELETE' : 'GET', withKey(path));
      expect([response.status, response.body.code], response.text).toEqual([400, 4]);
      expect(response.body).toMatchObject({
        StatusCode: 400,
        exception_fields: { url: 'is not validly percent-encoded' },
      });
      expect(response.body).not.toHaveProperty('error');
      expect(response.text).not.toContain(path);
    }
  });

  it('a path parameter over 500 characters is 400 code 4, without echoing it', async () => {
    const long = 'x'.repeat(501);
    for (const path of [`/messages/${long}`, `/channels/messaging/${long}/query`, `/tasks/${long}`]) {
      const response = await send(path.endsWith('query') ? 'POST' : 'GET', withKey(path));
      expect([response.status, response.body.code], response.text).toEqual([400, 4]);
      expect(response.body.exception_fields).toEqual({
        url: 'has a path parameter longer than 500 characters',
      });
      expect(response.text).not.toContain(long);
    }
  });

  it('what Node’s HTTP parser refuses is answered in Stream’s shape: bad header bytes, bad request lines, huge headers', async () => {
    const nul = await send('GET', withKey('/messages/m1'), { headers: [['x-note', 'a\u0000b']] });
    expect([nul.status, nul.body.code, nul.body.StatusCode]).toEqual([400, 4, 400]);
    const space = await send('GET', withKey('/messages/m 1'));
    expect([space.status, space.body.code]).toEqual([400, 4]);
    const huge = await send('GET', withKey('/messages/m1'), { headers: [['x-note', 'a'.repeat(20_000)]] });
    expect([huge.status, huge.body.code, huge.body.StatusCode]).toEqual([431, 24, 431]);
    for (const response of [nul, space, huge]) {
      expect(response.body).toMatchObject({
        message: expect.stringMatching(/^Request failed with error: "/),
        duration: expect.any(String),
      });
    }
  });
});
