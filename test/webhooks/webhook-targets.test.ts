import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusedAddressReason } from '../../src/modules/webhooks/webhooks.address-policy.js';
import { postWebhook } from '../../src/modules/webhooks/webhooks.sender.js';
import { expectStreamError } from '../helpers/assertions.js';
import { testDialects } from '../helpers/databases.js';
import { waitForTask } from '../helpers/exports.js';
import { rawRequest, signToken } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

describe('which addresses a webhook may reach', () => {
  it('refuses loopback, private, link-local, CGNAT, multicast, unspecified, reserved and metadata addresses', () => {
    const refused: Record<string, string> = {
      '127.0.0.1': 'loopback',
      '127.255.0.9': 'loopback',
      '10.1.2.3': 'private',
      '172.16.0.1': 'private',
      '172.31.255.255': 'private',
      '192.168.1.1': 'private',
      '169.254.10.10': 'link-local',
      '169.254.169.254': 'cloud metadata',
      '100.100.100.200': 'cloud metadata',
      '100.64.0.1': 'carrier-grade NAT (CGNAT)',
      '224.0.0.251': 'multicast',
      '0.0.0.0': 'unspecified',
      '255.255.255.255': 'reserved (including broadcast)',
      '::1': 'loopback',
      '::': 'unspecified',
      'fe80::1': 'link-local',
      'fe80::1%eth0': 'link-local',
      'fd12:3456::1': 'private (unique local)',
      'fd00:ec2::254': 'cloud metadata',
      'ff02::1': 'multicast',
      '[::1]': 'loopback',
    };
    for (const [address, reason] of Object.entries(refused)) {
      expect(refusedAddressReason(address), address).toBe(reason);
    }
  });

  it('looks through IPv6 forms that carry an IPv4 address: mapped, NAT64 and 6to4', () => {
    expect(refusedAddressReason('::ffff:127.0.0.1')).toBe('loopback');
    expect(refusedAddressReason('::ffff:7f00:1')).toBe('loopback');
    expect(refusedAddressReason('::ffff:10.0.0.1')).toBe('private');
    expect(refusedAddressReason('::FFFF:A9FE:A9FE')).toBe('cloud metadata');
    expect(refusedAddressReason('64:ff9b::169.254.169.254')).toBe('cloud metadata');
    expect(refusedAddressReason('2002:c0a8:0101::1')).toBe('private');
    expect(refusedAddressReason('::ffff:8.8.8.8')).toBeNull();
    expect(refusedAddressReason('64:ff9b::808:808')).toBeNull();
  });

  it('lets public unicast addresses through', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111']) {
      expect(refusedAddressReason(address), address).toBeNull();
    }
    expect(refusedAddressReason('example.com')).toBe('not an IP address');
  });
});

describe('posting a webhook', () => {
  let receiver: WebhookReceiver;
  const post = (url: string, allowPrivate: boolean) =>
    postWebhook({
      url,
      body: '{"type":"export.channels.success"}',
      headers: { 'x-api-key': 'k', 'x-signature': 's' },
      timeoutMillis: 5000,
      allowPrivate,
      signal: new AbortController().signal,
    });

  beforeAll(async () => {
    receiver = await startWebhookReceiver(new Map());
  });
  afterAll(() => receiver.close());

  it('refuses a literal loopback address, and a name that resolves to one, without contacting it', async () => {
    const { port } = new URL(receiver.url);
    expect(await post(`http://127.0.0.1:${port}/literal`, false)).toEqual({
      outcome: 'refused',
      status: null,
      error: '127.0.0.1 is a loopback address',
    });
    expect(await post(`http://[::ffff:127.0.0.1]:${port}/mapped`, false)).toMatchObject({
      outcome: 'refused',
    });
    const named = await post(`http://localhost:${port}/named`, false);
    expect(named).toMatchObject({ outcome: 'refused', status: null });
    expect(named.outcome === 'refused' && named.error).toMatch(
      /^localhost resolves to .+, a loopback address$/,
    );
    expect(receiver.received).toHaveLength(0);
  });

  it('reaches them when private addresses are allowed', async () => {
    const { port } = new URL(receiver.url);
    expect(await post(`http://localhost:${port}/allowed`, true)).toEqual({
      outcome: 'delivered',
      status: 200,
    });
    expect(receiver.at('/allowed')).toHaveLength(1);
  });

  it('does not follow redirects: a 3xx is a failed attempt', async () => {
    receiver.script('/moved', [{ status: 302, headers: { location: `${receiver.url}/elsewhere` } }]);
    expect(await post(`${receiver.url}/moved`, true)).toEqual({
      outcome: 'failed',
      status: 302,
      error: 'the receiver answered 302 (redirects are not followed)',
    });
    expect(receiver.at('/elsewhere')).toHaveLength(0);
  });
});

describe.each(testDialects)(
  'webhooks to private addresses, CHATPORT_WEBHOOK_ALLOW_PRIVATE off (%s)',
  (dialect) => {
    let t: TestServer;
    let receiver: WebhookReceiver;

    beforeAll(async () => {
      t = await startTestServer(dialect);
      receiver = await startWebhookReceiver(new Map([[t.app.apiKey, t.app.apiSecret]]));
    });
    afterAll(async () => {
      await receiver.close();
      await t.close();
    });

    it('refuses a literal private address when it is configured', async () => {
      for (const url of [
        'http://127.0.0.1:9/x',
        'http://[::1]/x',
        'http://169.254.169.254/latest',
        'https://10.0.0.8/',
      ]) {
        const refusal = await expectStreamError(t.app.client.updateAppSettings({ webhook_url: url }), {
          status: 400,
          code: 4,
        });
        expect(refusal.exception_fields).toHaveProperty('webhook_url');
      }
    });

    it('refuses at delivery a name that resolves to loopback: the export completes, the delivery fails at once', async () => {
      const { port } = new URL(receiver.url);
      const client = t.app.client;
      await client.updateAppSettings({
        event_hooks: [{ hook_type: 'webhook', enabled: true, webhook_url: `http://localhost:${port}/hook` }],
      });
      await client.upsertUsers([{ id: 'ann' }]);
      await client.channel('messaging', 'general', { created_by_id: 'ann' } as never).create();
      const { task_id: taskId } = await client.exportChannels([{ type: 'messaging', id: 'general' }]);
      expect((await waitForTask(client, taskId)).status).toBe('completed');
      const token = await signToken(t.app.apiSecret, { server: true });
      const deliveries = await waitFor(
        async () =>
          (
            await rawRequest(t.baseURL, 'GET', `/webhook_deliveries?task_id=${taskId}`, {
              apiKey: t.app.apiKey,
              token,
            })
          ).body.deliveries as Array<{ status: string; attempts: Array<Record<string, unknown>> }>,
        (list) => list[0]?.status === 'failed',
      );
      expect(deliveries[0]!.attempts).toHaveLength(1);
      expect(deliveries[0]!.attempts[0]).toMatchObject({ status: 'refused', response_code: null });
      expect(deliveries[0]!.attempts[0]!.error).toMatch(/^localhost resolves to .+, a loopback address$/);
      expect(receiver.received).toHaveLength(0);
    });
  },
);
