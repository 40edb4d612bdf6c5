import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { rawRequest, signToken } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe.each(testDialects)(
  'names of JavaScript’s built-in object properties as ids and types (%s)',
  (dialect) => {
    let t: TestServer;
    let token: string;
    const call = (method: string, path: string, body: unknown) =>
      rawRequest(t.baseURL, method, path, { apiKey: t.app.apiKey, token, body });

    beforeAll(async () => {
      t = await startTestServer(dialect);
      token = await signToken(t.app.apiSecret, { server: true });
      await t.app.client.upsertUsers([{ id: 'ann' }]);
      await t.app.client
        .channel('messaging', 'c1', { created_by_id: 'ann', members: ['ann'] } as never)
        .create();
      await t.app.client.channel('messaging', 'c1').sendMessage({ id: 'm1', text: 'hello', user_id: 'ann' });
    });
    afterAll(() => t.close());

    it('are ordinary ids and reaction types, each kept and counted under its own name', async () => {
      // Raw: the SDK's own upsertUsers drops a user whose id is `constructor` before sending.
      const upserted = await call('POST', '/users', {
        users: { constructor: { id: 'constructor' }, toString: { id: 'toString' } },
      });
      const users = upserted.body.users as Record<string, { id: string }>;
      expect(Object.keys(users).sort()).toEqual(['constructor', 'toString']);
      expect(users['constructor']?.id).toBe('constructor');
      const found = await t.app.client.queryUsers({ id: { $in: ['constructor', 'toString'] } });
      expect(found.users.map((user) => user.id).sort()).toEqual(['constructor', 'toString']);
      const channel = t.app.client.channel('messaging', 'c1');
      for (const type of ['constructor', 'toString', 'valueOf', 'hasOwnProperty']) {
        await channel.sendReaction('m1', { type, user_id: 'ann' } as never);
      }
      const { message } = await t.app.client.getMessage('m1');
      expect(message.reaction_counts).toEqual({ constructor: 1, toString: 1, valueOf: 1, hasOwnProperty: 1 });
      expect(message.reaction_scores).toEqual({ constructor: 1, toString: 1, valueOf: 1, hasOwnProperty: 1 });
    });

    it('`__proto__` is refused as an id or a reaction type: as an object key JavaScript would drop it', async () => {
      const reaction = await call('POST', '/messages/m1/reaction', {
        reaction: { type: '__proto__', user_id: 'ann' },
      });
      expect([reaction.status, reaction.body.code]).toEqual([400, 4]);
      expect(reaction.body.exception_fields).toHaveProperty(['reaction.type']);
      const channel = await call('POST', '/channels/messaging/__proto__/query', {
        data: { created_by_id: 'ann' },
      });
      expect([channel.status, channel.body.code]).toEqual([400, 4]);
      const message = await call('POST', '/channels/messaging/c1/message', {
        message: { id: '__proto__', text: 'x', user_id: 'ann' },
      });
      expect([message.status, message.body.code]).toEqual([400, 4]);
      const member = await call('POST', '/channels/messaging/c1', { add_members: ['__proto__'] });
      expect([member.status, member.body.code]).toEqual([400, 4]);
      const { message: unchanged } = await t.app.client.getMessage('m1');
      expect(Object.keys(unchanged.reaction_counts ?? {})).not.toContain('__proto__');
    });
  },
);
