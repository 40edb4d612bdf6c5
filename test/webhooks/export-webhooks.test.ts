import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAppByKey } from '../../src/modules/apps/apps.repository.js';
import { enqueueTask } from '../../src/modules/tasks/tasks.enqueue.js';
import { countActiveTasks } from '../../src/modules/tasks/tasks.submit.js';
import { expectTimestampsEverywhere } from '../helpers/assertions.js';
import { testDialects } from '../helpers/databases.js';
import { waitForTask } from '../helpers/exports.js';
import { rawRequest, signToken } from '../helpers/raw-client.js';
import { startTestServer, type TestApp, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

interface Attempt {
  attempt: number;
  status: string;
  response_code: number | null;
  error: string | null;
}
interface Delivery {
  id: string;
  task_id: string;
  event_type: string;
  hook_id: string | null;
  webhook_url: string;
  status: string;
  attempts: Attempt[];
  next_attempt_at: string | null;
  max_attempts: number;
}

const MAX_ATTEMPTS = 4;

describe.each(testDialects)('export webhooks (%s)', (dialect) => {
  let t: TestServer;
  let receiver: WebhookReceiver;
  const secrets = new Map<string, string>();
  let apps = 0;

  /** A fresh app (its own settings) with two users and a channel of two messages. */
  async function newApp(): Promise<TestApp & { id: number }> {
    const app = await t.createTestApp(`webhooks-${++apps}`);
    secrets.set(app.apiKey, app.apiSecret);
    await app.client.upsertUsers([{ id: 'ann' }, { id: 'ben' }]);
    const channel = app.client.channel('messaging', 'general', {
      created_by_id: 'ann',
      members: ['ann', 'ben'],
    });
    await channel.create();
    await channel.sendMessage({ text: 'hello', user_id: 'ann' });
    await channel.sendMessage({ text: 'hi', user_id: 'ben' });
    const row = await findAppByKey(t.server.context.db, app.apiKey);
    return { ...app, id: row!.id };
  }

  async function deliveriesOf(app: TestApp, taskId: string): Promise<Delivery[]> {
    const token = await signToken(app.apiSecret, { server: true });
    const response = await rawRequest(t.baseURL, 'GET', `/webhook_deliveries?task_id=${taskId}`, {
      apiKey: app.apiKey,
      token,
    });
    expect(response.status).toBe(200);
    return response.body.deliveries as Delivery[];
  }

  /** Waits until every delivery about `taskId` is delivered or failed for good. */
  function settledDeliveries(app: TestApp, taskId: string, count = 1) {
    return waitFor(
      () => deliveriesOf(app, taskId),
      (list) => list.length === count && list.every((d) => d.status === 'delivered' || d.status === 'failed'),
      { what: `the deliveries of ${taskId}` },
    );
  }

  async function hookTo(app: TestApp, path: string, extra: Record<string, unknown> = {}) {
    await app.client.updateAppSettings({
      event_hooks: [{ hook_type: 'webhook', enabled: true, webhook_url: `${receiver.url}${path}`, ...extra }],
    });
  }

  beforeAll(async () => {
    t = await startTestServer(dialect, {
      env: {
        CHATPORT_WEBHOOK_ALLOW_PRIVATE: 'true',
        CHATPORT_WEBHOOK_RETRY_BASE_MS: '50',
        CHATPORT_WEBHOOK_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      },
    });
    receiver = await startWebhookReceiver(secrets);
  });
  afterAll(async () => {
    await receiver.close();
    await t.close();
  });

  it('posts export.channels.success, signed as Stream signs, with a link to the file', async () => {
    const app = await newApp();
    await hookTo(app, '/channels-success');
    const { task_id: taskId } = await app.client.exportChannels([{ type: 'messaging', id: 'general' }], {
      version: 'v2',
    });
    const task = await waitForTask(app.client, taskId);
    expect(task.status).toBe('completed');
    const [delivery] = await settledDeliveries(app, taskId);

    const [request] = receiver.at('/channels-success');
    expect(receiver.at('/channels-success')).toHaveLength(1);
    expect(request!.signatureValid).toBe(true);
    expect(request!.headers['x-webhook-id']).toBe(delivery!.id);
    expect(request!.headers['x-webhook-attempt']).toBe('1');
    expect(request!.headers['x-api-key']).toBe(app.apiKey);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(Object.keys(request!.body)).toEqual([
      'type',
      'task_id',
      'url',
      'started_at',
      'finished_at',
      'created_at',
      'custom',
    ]);
    expect(request!.body).toMatchObject({
      type: 'export.channels.success',
      task_id: taskId,
      started_at: task.result!.started_at,
      finished_at: task.result!.finished_at,
      custom: {},
    });
    expectTimestampsEverywhere(request!.body);
    const download = await fetch(String(request!.body.url));
    expect(download.status).toBe(200);
    expect(await download.text()).toBe(await (await fetch(task.result!.url!)).text());

    expect(delivery).toMatchObject({
      task_id: taskId,
      event_type: 'export.channels.success',
      status: 'delivered',
      next_attempt_at: null,
      max_attempts: MAX_ATTEMPTS,
      attempts: [{ attempt: 1, status: 'delivered', response_code: 200, error: null }],
    });
  });

  it('posts export.users.success for an asynchronous user export', async () => {
    const app = await newApp();
    await hookTo(app, '/users-success', { event_types: ['export.users.success'] });
    const { task_id: taskId } = await app.client.exportUsers({ user_ids: ['ann', 'ben'] });
    expect((await waitForTask(app.client, taskId!)).status).toBe('completed');
    await settledDeliveries(app, taskId!);
    const [request] = receiver.at('/users-success');
    expect(request!.signatureValid).toBe(true);
    expect(request!.body).toMatchObject({ type: 'export.users.success', task_id: taskId, custom: {} });
    const file = await (await fetch(String(request!.body.url))).text();
    expect(
      file
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line).type),
    ).toContain('user');
  });

  it('posts export.channels.error and export.users.error, with the error, when an export fails', async () => {
    const app = await newApp();
    await hookTo(app, '/errors');
    const { context } = t.server;
    // A payload no export can run fails the task for good at its first attempt (invalid_payload).
    const failing: Array<{ id: string }> = [];
    for (const kind of ['export-channels', 'export-users']) {
      failing.push(
        await enqueueTask(context.db, context.clock, { appId: app.id, kind, payload: { bogus: true } }),
      );
    }
    for (const task of failing) {
      expect((await waitForTask(app.client, task.id)).status).toBe('failed');
      await settledDeliveries(app, task.id);
    }
    const bodies = receiver.at('/errors').map((request) => {
      expect(request.signatureValid).toBe(true);
      return request.body;
    });
    expect(bodies).toHaveLength(2);
    for (const [index, type] of ['export.channels.error', 'export.users.error'].entries()) {
      const body = bodies.find((candidate) => candidate.task_id === failing[index]!.id);
      expect(body).toMatchObject({ type, custom: {} });
      expect(body!.error).toMatch(/payload is not valid/);
      expect(body).not.toHaveProperty('url');
      expectTimestampsEverywhere(body);
    }
  });

  it('retries after 500s with the same X-Webhook-Id, every attempt visible, until delivered', async () => {
    const app = await newApp();
    await hookTo(app, '/flaky');
    receiver.script('/flaky', [{ status: 500 }, { status: 503 }]);
    const { task_id: taskId } = await app.client.exportChannels([{ type: 'messaging', id: 'general' }]);
    expect((await waitForTask(app.client, taskId)).status).toBe('completed');
    const [delivery] = await settledDeliveries(app, taskId);
    expect(delivery!.status).toBe('delivered');
    expect(delivery!.attempts).toMatchObject([
      { attempt: 1, status: 'failed', response_code: 500, error: 'the receiver answered 500' },
      { attempt: 2, status: 'failed', response_code: 503, error: 'the receiver answered 503' },
      { attempt: 3, status: 'delivered', response_code: 200, error: null },
    ]);
    const requests = receiver.at('/flaky');
    expect(requests.map((request) => request.headers['x-webhook-attempt'])).toEqual(['1', '2', '3']);
    expect(new Set(requests.map((request) => request.headers['x-webhook-id']))).toEqual(
      new Set([delivery!.id]),
    );
    expect(requests.every((request) => request.signatureValid)).toBe(true);
  });

  it('counts a receiver that does not answer within timeout_ms as a failed attempt, and retries', async () => {
    const app = await newApp();
    await hookTo(app, '/slow', { timeout_ms: 200 });
    receiver.script('/slow', [{ status: 200, delayMillis: 3000 }]);
    const { task_id: taskId } = await app.client.exportChannels([{ type: 'messaging', id: 'general' }]);
    const [delivery] = await settledDeliveries(app, taskId);
    expect(delivery!.attempts).toMatchObject([
      { attempt: 1, status: 'failed', response_code: null, error: 'no answer within 200 ms' },
      { attempt: 2, status: 'delivered', response_code: 200 },
    ]);
    expect(receiver.at('/slow')[0]!.answeredWith).toBe(0);
  });

  it('completes the export when the receiver is down, and shows the failing attempts and the next retry', async () => {
    const app = await newApp();
    const down = await startWebhookReceiver(secrets);
    await down.close();
    await app.client.updateAppSettings({ webhook_url: `${down.url}/gone` });
    const { task_id: taskId } = await app.client.exportChannels([{ type: 'messaging', id: 'general' }]);
    const task = await waitForTask(app.client, taskId);
    expect(task.status).toBe('completed');
    expect((await fetch(task.result!.url!)).status).toBe(200);

    const retrying = await waitFor(
      () => deliveriesOf(app, taskId),
      (list) => list[0]?.status === 'retrying' || list[0]?.status === 'failed',
    );
    if (retrying[0]!.status === 'retrying') expectTimestampsEverywhere(retrying[0]!.next_attempt_at);
    // Deliveries are the server's own work: they never count against the app's cap on queued tasks.
    expect(await countActiveTasks(t.server.context.db, app.id)).toBe(0);

    const [failed] = await settledDeliveries(app, taskId);
    expect(failed).toMatchObject({ status: 'failed', hook_id: null, next_attempt_at: null });
    expect(failed!.attempts).toHaveLength(MAX_ATTEMPTS);
    for (const attempt of failed!.attempts) {
      expect(attempt).toMatchObject({ status: 'failed', response_code: null });
      expect(attempt.error).toMatch(/^could not connect: ECONNREFUSED/);
    }
    expect((await app.client.getTask(taskId)).status).toBe('completed');
  });

  it('stops retrying once the hook is removed: the next attempt is cancelled, nothing more is sent', async () => {
    const app = await newApp();
    await hookTo(app, '/removed');
    let release!: () => void;
    receiver.script('/removed', [{ status: 500, held: new Promise<void>((resolve) => (release = resolve)) }]);
    const { task_id: taskId } = await app.client.exportChannels([{ type: 'messaging', id: 'general' }]);
    await waitFor(
      () => receiver.at('/removed').length,
      (count) => count === 1,
    );
    await app.client.updateAppSettings({ event_hooks: [] });
    release();
    const [delivery] = await settledDeliveries(app, taskId);
    expect(delivery).toMatchObject({ status: 'failed' });
    expect(delivery!.attempts).toMatchObject([
      { attempt: 1, status: 'failed', response_code: 500 },
      {
        attempt: 2,
        status: 'cancelled',
        response_code: null,
        error: 'the webhook was removed or disabled; not sent',
      },
    ]);
    expect(receiver.at('/removed')).toHaveLength(1);
  });

  it('answers one delivery by id, newest first in the list, and 404 for another app’s or an unknown id', async () => {
    const app = await newApp();
    await hookTo(app, '/by-id');
    // One after the other, so that the second export's event is the newer.
    const first = await app.client.exportChannels([{ type: 'messaging', id: 'general' }]);
    const [delivery] = await settledDeliveries(app, first.task_id);
    const second = await app.client.exportChannels([{ type: 'messaging', id: 'general' }]);
    await settledDeliveries(app, second.task_id);
    const token = await signToken(app.apiSecret, { server: true });
    const get = (path: string, as = { apiKey: app.apiKey, token }) => rawRequest(t.baseURL, 'GET', path, as);

    const one = await get(`/webhook_deliveries/${delivery!.id}`);
    expect(one.status).toBe(200);
    expect(one.body.delivery).toEqual(delivery);
    expectTimestampsEverywhere(one.body);
    const list = await get('/webhook_deliveries?limit=2');
    expect((list.body.deliveries as Delivery[]).map((d) => d.task_id)).toEqual([
      second.task_id,
      first.task_id,
    ]);
    expect(
      ((await get('/webhook_deliveries?limit=1&offset=1')).body.deliveries as Delivery[])[0]!.task_id,
    ).toBe(first.task_id);

    const other = await newApp();
    const otherToken = await signToken(other.apiSecret, { server: true });
    const foreign = await get(`/webhook_deliveries/${delivery!.id}`, {
      apiKey: other.apiKey,
      token: otherToken,
    });
    expect(foreign).toMatchObject({ status: 404, body: { code: 16 } });
    expect(await get('/webhook_deliveries/unknown')).toMatchObject({ status: 404, body: { code: 16 } });
    for (const query of ['limit=0', 'limit=101', 'offset=-1', 'status=failed', 'task_id=a%00b']) {
      expect(await get(`/webhook_deliveries?${query}`), query).toMatchObject({
        status: 400,
        body: { code: 4 },
      });
    }
    expect(await get('/webhook_deliveries/a%00b')).toMatchObject({ status: 400, body: { code: 4 } });
    const userToken = await signToken(app.apiSecret, { user_id: 'ann' });
    const asUser = await get('/webhook_deliveries', { apiKey: app.apiKey, token: userToken });
    expect(asUser).toMatchObject({ status: 403, body: { code: 17 } });
  });

  it('sends an event to every subscribed target, and none to disabled hooks or other event types', async () => {
    const app = await newApp();
    await app.client.updateAppSettings({
      webhook_url: `${receiver.url}/legacy`,
      webhook_events: ['export.channels.success'],
      event_hooks: [
        { hook_type: 'webhook', enabled: true, webhook_url: `${receiver.url}/all` },
        { hook_type: 'webhook', enabled: false, webhook_url: `${receiver.url}/disabled` },
        {
          hook_type: 'webhook',
          enabled: true,
          webhook_url: `${receiver.url}/users-only`,
          event_types: ['export.users.success', 'export.users.error'],
        },
      ],
    });
    const { task_id: taskId } = await app.client.exportChannels([{ type: 'messaging', id: 'general' }]);
    const deliveries = await settledDeliveries(app, taskId, 2);
    const { app: settings } = await app.client.getAppSettings();
    const allHook = settings!.event_hooks!.find((hook) => hook.webhook_url === `${receiver.url}/all`);
    expect(deliveries.map((d) => [d.hook_id, d.webhook_url]).sort()).toEqual(
      [
        [null, `${receiver.url}/legacy`],
        [allHook!.id, `${receiver.url}/all`],
      ].sort(),
    );
    expect(receiver.at('/legacy')).toHaveLength(1);
    expect(receiver.at('/all')).toHaveLength(1);
    expect(receiver.at('/disabled')).toHaveLength(0);
    expect(receiver.at('/users-only')).toHaveLength(0);
  });
});
