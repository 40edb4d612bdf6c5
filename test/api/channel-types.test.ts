/**
 * Stream's built-in channel types through both SDKs' paths, on both databases: listed, read one by
 * one, and the same declaration behind `GET /app`'s `channel_configs` and each channel's `config`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { rawRequest, signToken } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const TYPES = ['commerce', 'gaming', 'livestream', 'messaging', 'team'];

/** The fields Stream's spec (v236.0.4) requires of a ChannelTypeConfig. */
const REQUIRED = [
  'permissions',
  'grants',
  'created_at',
  'updated_at',
  'name',
  'typing_events',
  'read_events',
  'connect_events',
  'delivery_events',
  'search',
  'reactions',
  'replies',
  'quotes',
  'mutes',
  'uploads',
  'url_enrichment',
  'custom_events',
  'push_notifications',
  'reminders',
  'mark_messages_pending',
  'polls',
  'user_message_reminders',
  'shared_locations',
  'count_messages',
  'message_retention',
  'max_message_length',
  'automod',
  'automod_behavior',
  'skip_last_msg_update_for_system_msgs',
  'commands',
];

describe.each(testDialects)('channel types (%s)', (dialect) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(dialect);
  });
  afterAll(() => t.close());

  it('listChannelTypes answers the five built-in types with every field Stream requires', async () => {
    const { channel_types } = await t.app.client.listChannelTypes();
    expect(Object.keys(channel_types).sort()).toEqual(TYPES);
    for (const [name, config] of Object.entries(channel_types)) {
      expect(config.name).toBe(name);
      for (const field of REQUIRED) expect(config, `${name}.${field}`).toHaveProperty(field);
    }
  });

  it('getChannelType answers one type, and 404 code 16 for a type that does not exist', async () => {
    const livestream = await t.app.client.getChannelType('livestream');
    expect(livestream).toMatchObject({ name: 'livestream', reactions: true, replies: true, commands: [] });
    try {
      await t.app.client.getChannelType('nope');
      throw new Error('expected a 404');
    } catch (error) {
      const response = (error as { response: { status: number; data: { code: number } } }).response;
      expect([response.status, response.data.code]).toEqual([404, 16]);
    }
  });

  it('GET /app channel_configs and a channel’s config come from the same declaration; v2 serves the types too', async () => {
    const { app } = await t.app.client.getAppSettings();
    const configs = app!.channel_configs as Record<string, Record<string, unknown>>;
    expect(Object.keys(configs).sort()).toEqual(TYPES);
    const { channel_types } = await t.app.client.listChannelTypes();
    const { permissions: _p, grants: _g, ...messaging } = channel_types.messaging as Record<string, unknown>;
    expect(configs.messaging).toEqual(messaging);

    await t.app.client.upsertUsers([{ id: 'ann' }]);
    const { channel } = await t.app.client
      .channel('gaming', 'g1', { created_by_id: 'ann' } as never)
      .create();
    const { created_at: _c, updated_at: _u, ...config } = channel.config as Record<string, unknown>;
    const { created_at: _c2, updated_at: _u2, ...gaming } = configs.gaming!;
    expect(config).toEqual(gaming);

    const token = await signToken(t.app.apiSecret, { server: true });
    const v2 = await rawRequest(t.baseURL, 'GET', '/api/v2/chat/channeltypes/team', {
      apiKey: t.app.apiKey,
      token,
    });
    expect([v2.status, v2.body.name]).toEqual([200, 'team']);
  });
});
