import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { rawRequest, signToken } from '../helpers/raw-client.js';
import { rawHttp } from '../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const PROTOTYPE_NAMES = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__'];

const nested = (levels: number) => {
  let filter: unknown = { id: 'ann' };
  for (let i = 0; i < levels; i++) filter = { $or: [filter] };
  return filter;
};

describe.each(testDialects)('filters are checked before any SQL runs (%s)', (dialect) => {
  let t: TestServer;
  let token: string;
  const call = (
    method: string,
    path: string,
    options: { body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ) => rawRequest(t.baseURL, method, path, { apiKey: t.app.apiKey, token, ...options });
  const queryChannels = (filter: unknown) =>
    call('POST', '/channels', { body: { filter_conditions: filter } });
  const queryUsers = (payload: unknown) =>
    call('GET', `/users?payload=${encodeURIComponent(JSON.stringify(payload))}`);
  const expectInputError = (response: { status: number; body: Record<string, unknown> }, field: string) => {
    expect([response.status, response.body.code], JSON.stringify(response.body)).toEqual([400, 4]);
    expect(response.body.exception_fields).toHaveProperty([field]);
  };

  beforeAll(async () => {
    t = await startTestServer(dialect);
    token = await signToken(t.app.apiSecret, { server: true });
    await t.app.client.upsertUsers([{ id: 'ann' }, { id: 'ben' }]);
    await t.app.client
      .channel('messaging', 'c1', { created_by_id: 'ann', members: ['ann', 'ben'] } as never)
      .create();
  });
  afterAll(() => t.close());

  it('a field named like a built-in object property is an unknown field (users) or custom data no channel has, in a body and in ?payload=', async () => {
    for (const name of PROTOTYPE_NAMES) {
      // JSON text, not an object literal: `{__proto__: ...}` in JavaScript would set a prototype.
      const filter = `{"${name}":"x"}`;
      const channels = await call('POST', '/channels', { rawBody: `{"filter_conditions":${filter}}` });
      const users = await call(
        'GET',
        `/users?payload=${encodeURIComponent(`{"filter_conditions":${filter}}`)}`,
      );
      if (name === '__proto__') {
        // Refused as a key anywhere in JSON a client sends (prototype poisoning).
        expectInputError(channels, 'body');
        expectInputError(users, 'payload');
      } else {
        // Any field a channel filter does not declare is the channels' custom data.
        expect([channels.status, channels.body.channels]).toEqual([201, []]);
        expectInputError(users, `filter_conditions.${name}`);
      }
    }
  });

  it('an operator named like a built-in object property is an unsupported operator', async () => {
    for (const name of ['constructor', 'toString', 'valueOf']) {
      expectInputError(
        await queryChannels({ cid: { $eq: 'messaging:c1', [name]: 'x' } }),
        'filter_conditions.cid',
      );
      expectInputError(
        await queryUsers({ filter_conditions: { id: { $in: ['ann'], [name]: 1 } } }),
        'filter_conditions.id',
      );
    }
  });

  it('$in and $nin take up to 1,000 values in a filter; more is a 400 naming the cap', async () => {
    const ids = (count: number) => Array.from({ length: count }, (_, i) => `u${i}`);
    const atCap = await queryChannels({ cid: { $in: ['messaging:c1', ...ids(999)] } });
    expect(atCap.status).toBe(201);
    expect((atCap.body.channels as unknown[]).length).toBe(1);
    for (const filter of [
      { cid: { $in: ids(40_000) } },
      { members: { $in: ids(40_000) } },
      { cid: { $nin: ids(600) }, id: { $in: ids(401) } },
    ]) {
      const response = await queryChannels(filter);
      expectInputError(response, 'filter_conditions');
      expect(response.body.message).toMatch(/more than 1000 values/);
    }
    const users = await queryUsers({ filter_conditions: { id: { $in: ids(1_001) } } });
    expectInputError(users, 'filter_conditions');
    expect(
      (await queryUsers({ filter_conditions: { id: { $in: ['ann', ...ids(999)] } } })).body.users,
    ).toHaveLength(1);
  });

  it('integer fields refuse fractions and numbers past their 32-bit column, written any way', async () => {
    for (const value of [
      '1.5',
      '1e300',
      '9223372036854775808',
      '-9223372036854775809',
      '2147483648',
      '-2147483649',
      '"2"',
    ]) {
      const response = await call('POST', '/channels', {
        rawBody: `{"filter_conditions":{"member_count":{"$gt":${value}}}}`,
      });
      expectInputError(response, 'filter_conditions.member_count');
    }
    const inRange = await queryChannels({ member_count: { $gt: -2147483648, $lte: 2147483647 } });
    expect(inRange.status).toBe(201);
    expect((inRange.body.channels as unknown[]).length).toBe(1);
  });

  it('nesting past 10 levels of $and/$or/$nor or past 100 conditions is a 400, in a body and in ?payload=', async () => {
    expect((await queryChannels(nested(10))).status).toBe(201);
    expectInputError(await queryChannels(nested(11)), 'filter_conditions');
    expect((await queryUsers({ filter_conditions: nested(10) })).body.users).toHaveLength(1);
    expectInputError(await queryUsers({ filter_conditions: nested(11) }), 'filter_conditions');
    const wide = { $or: Array.from({ length: 101 }, (_, i) => ({ id: `u${i}` })) };
    expectInputError(await queryChannels(wide), 'filter_conditions');
    expectInputError(await queryUsers({ filter_conditions: wide }), 'filter_conditions');
  });

  it('JSON nested deeper than 100 levels is refused whole, the 1,400 levels that overflowed the stack included', async () => {
    // As a client that leaves JSON's punctuation unescaped sends it (this is what overflowed the stack).
    const text = `{"filter_conditions":${'{"$or":['.repeat(1_400)}{"id":"ann"}${']}'.repeat(1_400)}}`;
    const users = await rawHttp(Number(new URL(t.baseURL).port), {
      method: 'GET',
      target: `/users?api_key=${t.app.apiKey}&payload=${text}`,
      headers: [
        ['authorization', token],
        ['stream-auth-type', 'jwt'],
      ],
    });
    const body = JSON.parse(users.text) as Record<string, unknown>;
    expectInputError({ status: users.status, body }, 'payload');
    expect(body.message).toMatch(/deeper than 100 levels/);
    expectInputError(await call('POST', '/channels', { rawBody: text }), 'body');
    const deepCustom = `{"users":{"deep":{"id":"deep","x":${'['.repeat(101)}${']'.repeat(101)}}}}`;
    expectInputError(await call('POST', '/users', { rawBody: deepCustom }), 'body');
  });

  it('a NUL inside JSON in the query string is refused like one in a body', async () => {
    expectInputError(await queryUsers({ filter_conditions: { id: 'a\u0000b' } }), 'payload');
    const plain = await call('POST', '/channels/messaging/c1/message', {
      rawBody: '{"message":{"text":"a\\u0000b","user_id":"ann"}}',
      headers: { 'content-type': 'text/plain' },
    });
    expectInputError(plain, 'body');
  });

  it('a sort names at most 5 fields', async () => {
    const sort = Array.from({ length: 6 }, () => ({ field: 'created_at', direction: 1 }));
    expectInputError(await call('POST', '/channels', { body: { sort } }), 'sort');
    expectInputError(await queryUsers({ sort }), 'sort');
  });
});
