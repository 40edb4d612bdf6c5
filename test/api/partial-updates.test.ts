/**
 * Partial updates of users, channels and messages behave alike (one piece of code,
 * src/lib/partial-update.ts): custom data set flat or under `custom` merges, keys are unset flat or as
 * `custom.<key>`, dotted names reach nested fields, and a refused update changes nothing. Written
 * through `stream-chat` (root paths), read back through `@stream-io/node-sdk` (`custom` nested).
 */
import { StreamClient } from '@stream-io/node-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectStreamError } from '../helpers/assertions.js';
import { testDialects } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

type Json = Record<string, unknown>;

interface Entity {
  name: string;
  /** Creates one with this custom data; the id names it. */
  create(id: string, custom: Json): Promise<void>;
  patch(id: string, set: Json, unset?: string[]): Promise<unknown>;
  custom(id: string): Promise<Json>;
}

const INITIAL = { keep: 'me', color: 'red', details: { topic: 't', rating: 'pg' } };

describe.each(testDialects)('partial updates of users, channels and messages alike (%s)', (dialect) => {
  let t: TestServer;
  let v2: StreamClient;
  let serial = 0;
  const entities: Entity[] = [
    {
      name: 'user',
      create: async (id, custom) => void (await t.app.client.upsertUser({ id, ...custom })),
      patch: (id, set, unset = []) =>
        t.app.client.partialUpdateUser({ id, set: set as never, unset: unset as never }),
      custom: async (id) =>
        (await v2.queryUsers({ payload: { filter_conditions: { id } } })).users[0]!.custom,
    },
    {
      name: 'channel',
      create: async (id, custom) =>
        void (await t.app.client
          .channel('messaging', id, { created_by_id: 'owner', ...custom } as never)
          .create()),
      patch: (id, set, unset = []) =>
        t.app.client.channel('messaging', id).updatePartial({ set: set as never, unset: unset as never }),
      custom: async (id) =>
        (await v2.chat.queryChannels({ filter_conditions: { cid: `messaging:${id}` } })).channels[0]!.channel!
          .custom,
    },
    {
      name: 'message',
      create: async (id, custom) =>
        void (await t.app.client
          .channel('messaging', 'room')
          .sendMessage({ id, text: 'x', user_id: 'owner', ...custom } as never)),
      patch: (id, set, unset = []) => t.app.client.partialUpdateMessage(id, { set, unset } as never, 'owner'),
      custom: async (id) => (await v2.chat.getMessage({ id })).message.custom,
    },
  ];

  beforeAll(async () => {
    t = await startTestServer(dialect);
    v2 = new StreamClient(t.app.apiKey, t.app.apiSecret, { basePath: t.baseURL, timeout: 20_000 });
    await t.app.client.upsertUser({ id: 'owner' });
    await t.app.client.channel('messaging', 'room', { created_by_id: 'owner' } as never).create();
  });
  afterAll(() => t.close());

  describe.each(entities.map((entity) => [entity.name, entity] as const))('%s', (_name, entity) => {
    const fresh = async () => {
      const id = `${entity.name}-${++serial}`;
      await entity.create(id, INITIAL);
      return id;
    };

    it('merges custom data set under `custom` (the v2 form), losing nothing else', async () => {
      const id = await fresh();
      await entity.patch(id, { custom: { color: 'blue', size: 3 } });
      expect(await entity.custom(id)).toEqual({ ...INITIAL, color: 'blue', size: 3 });
    });

    it('merges custom data set flat (the v1 form) alike', async () => {
      const id = await fresh();
      await entity.patch(id, { color: 'blue', size: 3 });
      expect(await entity.custom(id)).toEqual({ ...INITIAL, color: 'blue', size: 3 });
    });

    it('unsets a custom key named flat or as custom.<key>', async () => {
      const id = await fresh();
      await entity.patch(id, {}, ['color', 'custom.keep']);
      expect(await entity.custom(id)).toEqual({ details: INITIAL.details });
    });

    it('sets and unsets nested fields by dotted names, as Stream documents', async () => {
      const id = await fresh();
      await entity.patch(id, { 'details.topic': 'Nature', 'extra.deep.field': 1 }, ['details.rating']);
      expect(await entity.custom(id)).toEqual({
        keep: 'me',
        color: 'red',
        details: { topic: 'Nature' },
        extra: { deep: { field: 1 } },
      });
    });

    it('reaches nested fields by dotted names under custom too, as the v2 SDK nests them', async () => {
      const id = await fresh();
      await entity.patch(id, { custom: { 'details.topic': 'Nature' } });
      expect(await entity.custom(id)).toEqual({ ...INITIAL, details: { topic: 'Nature', rating: 'pg' } });
    });

    it('unsets every custom field with unset custom', async () => {
      const id = await fresh();
      await entity.patch(id, { fresh: true }, ['custom']);
      expect(await entity.custom(id)).toEqual({ fresh: true });
    });

    it('refuses a malformed update with 400 code 4 and changes nothing', async () => {
      const id = await fresh();
      for (const set of [
        { custom: 'not an object' },
        { 'keep.deeper': 1 },
        { 'a..b': 1 },
        { 'x.__proto__.y': 1 },
      ]) {
        await expectStreamError(entity.patch(id, set), { status: 400, code: 4 });
      }
      await expectStreamError(entity.patch(id, { color: 'blue' }, ['created_at']), { status: 400, code: 4 });
      expect(await entity.custom(id)).toEqual(INITIAL);
    });
  });
});
