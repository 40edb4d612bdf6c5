import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamClient } from '@stream-io/node-sdk';
import type { StreamChat } from 'stream-chat';
import { expectStreamError, expectTimestampsEverywhere } from '../helpers/assertions.js';
import { testDialects } from '../helpers/databases.js';
import { rawRequest, signToken } from '../helpers/raw-client.js';
import { sdkTypeProblems } from '../helpers/sdk-types.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** The fields Stream's AppResponseFields requires (reference spec), every one of which GET /app answers. */
const requiredAppFields = [
  'id',
  'name',
  'organization',
  'placement',
  'push_notifications',
  'webhook_url',
  'moderation_webhook_url',
  'channel_configs',
  'call_types',
  'policies',
  'suspended',
  'suspended_explanation',
  'disable_auth_checks',
  'disable_permissions_checks',
  'permission_version',
  'user_search_disallowed_roles',
  'multi_tenant_enabled',
  'allow_multi_user_devices',
  'image_moderation_enabled',
  'async_url_enrich_enabled',
  'auto_translation_enabled',
  'custom_action_handler_url',
  'enforce_unique_usernames',
  'sqs_url',
  'sqs_key',
  'sqs_secret',
  'sns_topic_arn',
  'sns_key',
  'sns_secret',
  'file_upload_config',
  'image_upload_config',
  'grants',
  'campaign_enabled',
  'webhook_events',
  'reminders_interval',
  'cdn_expiration_seconds',
  'moderation_enabled',
  'moderation_multitenant_blocklist_enabled',
  'guest_user_creation_disabled',
  'event_hooks',
  'use_hook_v2',
  'user_response_time_enabled',
  'moderation_llm_configurability_enabled',
  'max_aggregated_activities_length',
  'feed_audit_logs_enabled',
  'moderation_video_call_moderation_enabled',
  'moderation_audio_call_moderation_enabled',
  'member_custom_on_messages_enabled',
];

const hook = (path: string, extra: Record<string, unknown> = {}) => ({
  hook_type: 'webhook' as const,
  enabled: true,
  webhook_url: `https://hooks.example.com${path}`,
  ...extra,
});

describe.each(testDialects)('app settings, GET and PATCH /app (%s)', (dialect) => {
  let t: TestServer;
  let client: StreamChat;

  async function settings() {
    const { app } = await client.getAppSettings();
    return app!;
  }

  beforeAll(async () => {
    t = await startTestServer(dialect);
    client = t.app.client;
  });
  afterAll(() => t.close());

  it('answers every field Stream’s AppResponseFields requires, without webhooks at first', async () => {
    const app = await settings();
    for (const field of requiredAppFields) expect(app, field).toHaveProperty(field);
    expect(app).toMatchObject({ name: 'test', webhook_url: '', webhook_events: [], event_hooks: [] });
    expect(typeof app.id).toBe('number');
  });

  it('stores webhook_url, webhook_events and event_hooks, assigning ids to hooks sent without one', async () => {
    await client.updateAppSettings({
      webhook_url: 'https://hooks.example.com/legacy',
      webhook_events: ['export.channels.success', 'export.users.success'],
      event_hooks: [
        hook('/one', { event_types: ['export.channels.error'], timeout_ms: 2500 }),
        hook('/two', { id: 'my-hook', enabled: false }),
      ],
    });
    const app = await settings();
    expect(app.webhook_url).toBe('https://hooks.example.com/legacy');
    expect(app.webhook_events).toEqual(['export.channels.success', 'export.users.success']);
    expect(app.event_hooks).toMatchObject([
      {
        hook_type: 'webhook',
        webhook_url: 'https://hooks.example.com/one',
        event_types: ['export.channels.error'],
        enabled: true,
        timeout_ms: 2500,
      },
      {
        id: 'my-hook',
        webhook_url: 'https://hooks.example.com/two',
        event_types: [],
        enabled: false,
        timeout_ms: 6000,
      },
    ]);
    expect(app.event_hooks![0]!.id).toMatch(/^[0-9a-f-]{36}$/);
    expectTimestampsEverywhere(app.event_hooks);
  });

  it('replaces the hooks: a listed id is updated and keeps created_at, a hook left out is removed', async () => {
    await client.updateAppSettings({ event_hooks: [hook('/a'), hook('/b', { id: 'keep' })] });
    const before = (await settings()).event_hooks!;
    await client.updateAppSettings({
      event_hooks: [hook('/b-moved', { id: 'keep', event_types: ['export.users.error'] }), hook('/c')],
    });
    const after = (await settings()).event_hooks!;
    expect(after.map((h) => h.webhook_url)).toEqual([
      'https://hooks.example.com/b-moved',
      'https://hooks.example.com/c',
    ]);
    const kept = after.find((h) => h.id === 'keep')!;
    expect(kept.created_at).toBe(before.find((h) => h.id === 'keep')!.created_at);
    expect(kept.event_types).toEqual(['export.users.error']);
    expect(after.some((h) => h.webhook_url?.endsWith('/a'))).toBe(false);
  });

  it('with explicit_event_hooks_deletion keeps the hooks left out and removes those marked delete', async () => {
    await client.updateAppSettings({ event_hooks: [hook('/x', { id: 'x' }), hook('/y', { id: 'y' })] });
    await client.updateAppSettings({
      explicit_event_hooks_deletion: true,
      event_hooks: [hook('/y', { id: 'y', delete: true }), hook('/z', { id: 'z' })],
    });
    expect((await settings()).event_hooks!.map((h) => h.id)).toEqual(['x', 'z']);
  });

  it('leaves what a request does not name as it was, and removes the webhooks given empty or null', async () => {
    await client.updateAppSettings({
      webhook_url: 'https://hooks.example.com/kept',
      event_hooks: [hook('/h')],
    });
    await client.updateAppSettings({ webhook_events: ['export.users.error'] });
    let app = await settings();
    expect(app.webhook_url).toBe('https://hooks.example.com/kept');
    expect(app.event_hooks).toHaveLength(1);
    await client.updateAppSettings({ webhook_url: '', event_hooks: null, webhook_events: null });
    app = await settings();
    expect(app).toMatchObject({ webhook_url: '', webhook_events: [], event_hooks: [] });
  });

  it('loses no hook when updates that each add one arrive at once', async () => {
    await client.updateAppSettings({ event_hooks: [] });
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        client.updateAppSettings({
          explicit_event_hooks_deletion: true,
          event_hooks: [hook(`/${i}`, { id: `h${i}` })],
        }),
      ),
    );
    const ids = (await settings()).event_hooks!.map((h) => h.id);
    expect(ids.sort()).toEqual(Array.from({ length: 8 }, (_, i) => `h${i}`));
  });

  it('accepts a setting chatport does not implement only with the value GET /app shows', async () => {
    await client.updateAppSettings({
      disable_auth_checks: false,
      sqs_url: '',
      enforce_unique_usernames: 'no',
    });
    const refusal = await expectStreamError(client.updateAppSettings({ disable_auth_checks: true }), {
      status: 400,
      code: 4,
    });
    expect(refusal.exception_fields).toHaveProperty('disable_auth_checks');
    expect(refusal.message).toContain('does not implement');
  });

  it('refuses bad webhook settings with 400 code 4 naming the field, changing nothing', async () => {
    await client.updateAppSettings({
      webhook_url: 'https://hooks.example.com/before',
      event_hooks: [hook('/before')],
    });
    const before = await settings();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ apn_config: { auth_type: 'token' } }, 'apn_config'],
      [{ revoke_tokens_issued_before: '2024-01-01T00:00:00Z' }, 'revoke_tokens_issued_before'],
      [{ webhook_url: 'ftp://hooks.example.com/x' }, 'webhook_url'],
      [{ webhook_url: 'not a url' }, 'webhook_url'],
      [{ webhook_url: 'https://user:pass@hooks.example.com/' }, 'webhook_url'],
      [{ webhook_events: ['message.new'] }, 'webhook_events.0'],
      [{ event_hooks: [{ ...hook('/s'), hook_type: 'sqs' }] }, 'event_hooks.0.hook_type'],
      [
        { event_hooks: [hook('/e', { event_types: ['export.channels.success', 'channel.created'] })] },
        'event_hooks.0.event_types.1',
      ],
      [{ event_hooks: [hook('/t', { timeout_ms: 99 })] }, 'event_hooks.0.timeout_ms'],
      [{ event_hooks: [hook('/t', { timeout_ms: 30_001 })] }, 'event_hooks.0.timeout_ms'],
      [
        { event_hooks: [hook('/q', { sqs_queue_url: 'https://sqs.example.com/q' })] },
        'event_hooks.0.sqs_queue_url',
      ],
      [
        { event_hooks: [{ hook_type: 'webhook', webhook_url: 'https://hooks.example.com/n' }] },
        'event_hooks.0.enabled',
      ],
      [{ event_hooks: [hook('/d', { id: 'dup' }), hook('/d2', { id: 'dup' })] }, 'event_hooks.1.id'],
      [{ event_hooks: [hook('/del', { id: 'x', delete: true })] }, 'event_hooks.0.delete'],
      [{ event_hooks: Array.from({ length: 11 }, (_, i) => hook(`/${i}`)) }, 'event_hooks'],
      [
        { explicit_event_hooks_deletion: true, event_hooks: [hook('/u', { id: 'unknown', delete: true })] },
        'event_hooks',
      ],
      [{ webhook_url: 'https://hooks.example.com/ok', made_up_setting: 1 }, 'made_up_setting'],
    ];
    for (const [body, field] of cases) {
      const refusal = await expectStreamError(client.updateAppSettings(body as never), {
        status: 400,
        code: 4,
      });
      expect(Object.keys(refusal.exception_fields as object), JSON.stringify(body)).toContain(field);
    }
    expect(await settings()).toEqual(before);
  });

  it('is server-side only', async () => {
    const token = await signToken(t.app.apiSecret, { user_id: 'ann' });
    for (const method of ['GET', 'PATCH']) {
      const response = await rawRequest(t.baseURL, method, '/app', {
        apiKey: t.app.apiKey,
        token,
        ...(method === 'PATCH' ? { body: { webhook_url: '' } } : {}),
      });
      expect(response.status).toBe(403);
      expect(response.body.code).toBe(17);
    }
  });

  it('is documented in the OpenAPI document, with the webhook events chatport posts', async () => {
    const document = (await (await fetch(`${t.baseURL}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
      webhooks: Record<string, { post: { requestBody: unknown; parameters: Array<{ name: string }> } }>;
    };
    expect(Object.keys(document.paths['/app']!).sort()).toEqual(['get', 'patch']);
    expect(JSON.stringify(document.paths['/app']!.patch)).toContain('event_hooks');
    expect(document.paths).toHaveProperty(['/webhook_deliveries', 'get']);
    expect(document.paths).toHaveProperty(['/webhook_deliveries/{id}', 'get']);
    expect(Object.keys(document.webhooks).sort()).toEqual([
      'export.channels.error',
      'export.channels.success',
      'export.users.error',
      'export.users.success',
    ]);
    const success = document.webhooks['export.channels.success']!.post;
    expect(success.parameters.map((header) => header.name)).toEqual([
      'X-Signature',
      'X-Webhook-Id',
      'X-Webhook-Attempt',
      'X-Api-Key',
    ]);
    expect(JSON.stringify(success.requestBody)).toContain('"url"');
    expect(JSON.stringify(document.webhooks['export.users.error']!.post.requestBody)).toContain('"error"');
  });

  it('keeps each app’s settings to itself', async () => {
    const other = await t.createTestApp('other');
    await other.client.updateAppSettings({ webhook_url: 'https://hooks.example.com/other' });
    expect((await settings()).webhook_url).not.toBe('https://hooks.example.com/other');
    expect((await other.client.getAppSettings()).app!.webhook_url).toBe('https://hooks.example.com/other');
  });
});

describe.each(testDialects)('app settings through @stream-io/node-sdk, /api/v2/app (%s)', (dialect) => {
  let t: TestServer;
  let client: StreamClient;

  beforeAll(async () => {
    t = await startTestServer(dialect);
    client = new StreamClient(t.app.apiKey, t.app.apiSecret, { basePath: t.baseURL, timeout: 20_000 });
  });
  afterAll(() => t.close());

  it('stores the webhooks updateApp sends, and getApp keeps every promise of the SDK’s AppResponseFields', async () => {
    await client.updateApp({
      webhook_url: 'https://hooks.example.com/v2',
      event_hooks: [hook('/v2-hook', { id: 'v2', event_types: ['export.users.success'] })],
    });
    const { app } = await client.getApp();
    expect(sdkTypeProblems(app, 'AppResponseFields')).toEqual([]);
    expect(app.webhook_url).toBe('https://hooks.example.com/v2');
    expect(app.event_hooks).toMatchObject([
      { id: 'v2', hook_type: 'webhook', webhook_url: 'https://hooks.example.com/v2-hook', enabled: true },
    ]);
    await expect(client.updateApp({ multi_tenant_enabled: true })).rejects.toMatchObject({
      code: 4,
      metadata: { responseCode: 400 },
    });
  });
});
