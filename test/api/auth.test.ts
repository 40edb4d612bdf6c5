import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { rawRequest, signToken, unsignedToken } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe.each(testDialects)('authentication and authorisation (%s)', (dialect) => {
  let t: TestServer;
  let serverToken: string;
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    t = await startTestServer(dialect);
    serverToken = await signToken(t.app.apiSecret, { server: true });
    await t.app.client.upsertUsers([{ id: 'ann' }, { id: 'ben' }]);
    await t.app.client
      .channel('messaging', 'room', { created_by_id: 'ann', members: ['ann', 'ben'] } as never)
      .create();
    await t.app.client
      .channel('messaging', 'room')
      .sendMessage({ id: 'bens', text: 'by ben', user_id: 'ben' });
  });
  afterAll(() => t.close());

  const get = (token: string | undefined, options: { apiKey?: string; authType?: string | null } = {}) =>
    rawRequest(t.baseURL, 'GET', '/users', {
      apiKey: options.apiKey ?? t.app.apiKey,
      token,
      authType: options.authType,
    });

  it('the SDK’s own server token, and a hand-made one, are accepted', async () => {
    await expect(t.app.client.queryUsers({ id: 'ann' })).resolves.toMatchObject({ users: [{ id: 'ann' }] });
    expect((await get(serverToken)).status).toBe(200);
  });

  it('a missing or unknown api_key is 401 code 2', async () => {
    const missing = await rawRequest(t.baseURL, 'GET', '/users', { token: serverToken });
    expect([missing.status, missing.body.code]).toEqual([401, 2]);
    const unknown = await get(serverToken, { apiKey: 'not-a-key' });
    expect([unknown.status, unknown.body.code]).toEqual([401, 2]);
  });

  it('a missing stream-auth-type header, or a malformed token, is 401 code 5', async () => {
    const noType = await get(serverToken, { authType: null });
    expect([noType.status, noType.body.code]).toEqual([401, 5]);
    const anonymous = await get(serverToken, { authType: 'anonymous' });
    expect([anonymous.status, anonymous.body.code]).toEqual([401, 5]);
    const garbage = await get('not.a.jwt');
    expect([garbage.status, garbage.body.code]).toEqual([401, 5]);
    const none = await get(undefined);
    expect([none.status, none.body.code]).toEqual([401, 5]);
  });

  it('alg none and every alg but HS256 are refused', async () => {
    const unsigned = await get(unsignedToken({ server: true }));
    expect(unsigned.status).toBe(401);
    expect([5, 43]).toContain(unsigned.body.code);
    const hs512 = await get(await signToken(t.app.apiSecret, { server: true }, 'HS512'));
    expect([hs512.status, hs512.body.code]).toEqual([401, 5]);
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const { SignJWT } = await import('jose');
    const rs256 = await new SignJWT({ server: true }).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
    expect([(await get(rs256)).status, (await get(rs256)).body.code]).toEqual([401, 5]);
  });

  it('a token signed with another secret is 401 code 43', async () => {
    const forged = await signToken('some-other-secret', { server: true });
    const response = await get(forged);
    expect([response.status, response.body.code]).toEqual([401, 43]);
  });

  it('exp, nbf and iat are checked: codes 40, 41, 42', async () => {
    const expired = await get(await signToken(t.app.apiSecret, { server: true, exp: now() - 60 }));
    expect([expired.status, expired.body.code]).toEqual([401, 40]);
    const early = await get(await signToken(t.app.apiSecret, { server: true, nbf: now() + 600 }));
    expect([early.status, early.body.code]).toEqual([401, 41]);
    const future = await get(await signToken(t.app.apiSecret, { server: true, iat: now() + 600 }));
    expect([future.status, future.body.code]).toEqual([401, 42]);
    const fine = await get(
      await signToken(t.app.apiSecret, { server: true, iat: now() - 5, exp: now() + 600 }),
    );
    expect(fine.status).toBe(200);
  });

  it('a user token on a server-side-only endpoint is 403 code 17', async () => {
    const userToken = t.app.client.createToken('ann');
    const response = await get(userToken);
    expect([response.status, response.body.code]).toEqual([403, 17]);
    const channels = await rawRequest(t.baseURL, 'POST', '/channels', {
      apiKey: t.app.apiKey,
      token: userToken,
      body: {},
    });
    expect([channels.status, channels.body.code]).toEqual([403, 17]);
  });

  it('a user token may send messages as itself, and only as itself', async () => {
    const token = t.app.client.createToken('ann');
    const own = await rawRequest(t.baseURL, 'POST', '/channels/messaging/room/message', {
      apiKey: t.app.apiKey,
      token,
      body: { message: { id: 'anns', text: 'hi from ann' } },
    });
    expect(own.status).toBe(201);
    expect(own.body.message).toMatchObject({ id: 'anns', user: { id: 'ann' } });
    const impersonating = await rawRequest(t.baseURL, 'POST', '/channels/messaging/room/message', {
      apiKey: t.app.apiKey,
      token,
      body: { message: { text: 'pretending', user_id: 'ben' } },
    });
    expect([impersonating.status, impersonating.body.code]).toEqual([403, 17]);
  });

  it('a user token may edit, delete and react as itself, but not touch another user’s message', async () => {
    const token = t.app.client.createToken('ann');
    const request = (method: string, path: string, body?: unknown) =>
      rawRequest(t.baseURL, method, path, { apiKey: t.app.apiKey, token, body });
    expect((await request('PUT', '/messages/anns', { set: { text: 'edited' } })).status).toBe(201);
    const react = await request('POST', '/messages/bens/reaction', { reaction: { type: 'like' } });
    expect(react.status).toBe(201);
    expect(react.body.reaction).toMatchObject({ user_id: 'ann', type: 'like' });
    expect((react.body.message as { own_reactions: unknown[] }).own_reactions).toHaveLength(1);
    expect((await request('DELETE', '/messages/bens/reaction/like')).status).toBe(200);
    const foreignEdit = await request('PUT', '/messages/bens', { set: { text: 'hacked' } });
    expect([foreignEdit.status, foreignEdit.body.code]).toEqual([403, 17]);
    const foreignDelete = await request('DELETE', '/messages/bens');
    expect([foreignDelete.status, foreignDelete.body.code]).toEqual([403, 17]);
    expect((await t.app.client.getMessage('bens')).message.text).toBe('by ben');
    expect((await request('DELETE', '/messages/anns')).status).toBe(200);
  });

  it('a user token may not send to a channel it is not a member of', async () => {
    await t.app.client.upsertUser({ id: 'outsider' });
    const response = await rawRequest(t.baseURL, 'POST', '/channels/messaging/room/message', {
      apiKey: t.app.apiKey,
      token: t.app.client.createToken('outsider'),
      body: { message: { text: 'let me in' } },
    });
    expect([response.status, response.body.code]).toEqual([403, 17]);
  });
});
