import { Type, type Static } from 'typebox';
import type { Context } from '../../context.js';
import type { AppRow, WebhookDeliveryRow } from '../../database/database.types.js';
import { UnrecoverableError } from '../../lib/errors.js';
import { parseObject } from '../../lib/json.js';
import { findAppById } from '../apps/apps.repository.js';
import { presentDownload } from '../downloads/downloads.presenter.js';
import { findTask } from '../tasks/tasks.find.js';
import { payloadParser } from '../tasks/tasks.payload.js';
import type { TaskKind } from '../tasks/tasks.types.js';
import { findDelivery, finishAttempt, isTargetConfigured, startAttempt } from './webhooks.repository.js';
import { postWebhook, signWebhookBody, type WebhookPostResult } from './webhooks.sender.js';

/** Longest wait between two attempts to deliver a webhook: an hour. */
export const WEBHOOK_RETRY_CAP_MILLIS = 3_600_000;

export const WebhookDeliveryPayload = Type.Object({ deliveryId: Type.String({ minLength: 1 }) });
export type WebhookDeliveryPayload = Static<typeof WebhookDeliveryPayload>;

/**
 * A success event's `url`: a download link signed now, at this attempt, valid for CHATPORT_LINK_TTL_HOURS
 * from now (never past the file's retention), so an event delivered hours after the export still
 * carries a link that works; '' once retention removed the file. Without CHATPORT_PUBLIC_URL, a worker
 * process outside the server signs for http://localhost:<CHATPORT_PORT>, the documented default.
 */
async function downloadUrl(context: Context, app: AppRow, taskId: string): Promise<string> {
  const task = await findTask(context.db, app.id, taskId);
  if (!task || task.file_key === null) return '';
  const config = {
    ...context.config,
    publicUrl: context.config.publicUrl || `http://localhost:${context.config.port}`,
  };
  const download = await presentDownload({
    task,
    app,
    config,
    clock: context.clock,
    storage: context.storage,
  });
  return 'url' in download ? download.url : '';
}

/** The event as Stream shapes it, `url` right after `task_id` on success events. */
async function eventBody(context: Context, app: AppRow, delivery: WebhookDeliveryRow): Promise<string> {
  const { type, task_id: taskId, ...times } = parseObject(delivery.event);
  const url = delivery.event_type.endsWith('.success')
    ? { url: await downloadUrl(context, app, delivery.task_id) }
    : {};
  return JSON.stringify({ type, task_id: taskId, ...url, ...times });
}

/**
 * One attempt to deliver one event: signed as Stream signs (X-Signature over the exact body), with
 * the delivery's id and the attempt number, recorded in `webhook_attempts` from start to outcome. A
 * 2xx completes the task; a timeout, connection error or other status is retried with the kind's
 * backoff; a refused address, or a webhook removed or disabled since the event, fails it at once.
 */
const runDelivery: TaskKind<WebhookDeliveryPayload>['run'] = async ({ context, task, signal }) => {
  const { db, clock, config } = context;
  const delivery = await findDelivery(db, task.appId, task.payload.deliveryId);
  if (!delivery) throw new UnrecoverableError('the webhook delivery no longer exists', 'delivery_not_found');
  const app = await findAppById(db, task.appId);
  if (!app) throw new UnrecoverableError('the app no longer exists', 'app_not_found');
  const attempt = { delivery_id: delivery.id, attempt: task.attempt };
  await startAttempt(db, { ...attempt, started_at: clock.nowMicros() });

  let result: WebhookPostResult | { outcome: 'cancelled'; status: null; error: string };
  if (!(await isTargetConfigured(db, task.appId, delivery))) {
    result = { outcome: 'cancelled', status: null, error: 'the webhook was removed or disabled; not sent' };
  } else {
    const body = await eventBody(context, app, delivery);
    result = await postWebhook({
      url: delivery.webhook_url,
      body,
      headers: {
        'x-signature': signWebhookBody(body, app.api_secret),
        'x-webhook-id': delivery.id,
        'x-webhook-attempt': String(task.attempt),
        'x-api-key': app.api_key,
      },
      timeoutMillis: delivery.timeout_ms,
      allowPrivate: config.webhookAllowPrivate,
      signal,
    });
  }
  await finishAttempt(db, {
    ...attempt,
    finished_at: clock.nowMicros(),
    outcome: result.outcome,
    response_status: result.status,
    error: 'error' in result ? result.error : null,
  });
  if (result.outcome === 'delivered') {
    return { result: { delivery_id: delivery.id, response_status: result.status } };
  }
  if (result.outcome === 'refused') throw new UnrecoverableError(result.error, 'address_refused');
  if (result.outcome === 'cancelled') throw new UnrecoverableError(result.error, 'webhook_removed');
  throw new Error(result.error);
};

/** Sends one webhook event to one target; queued by the end hook in webhooks.events.ts. */
export const webhookDeliveryTask: TaskKind<WebhookDeliveryPayload> = {
  kind: 'webhook-delivery',
  parsePayload: payloadParser('webhook-delivery', WebhookDeliveryPayload),
  run: runDelivery,
  retryPolicy: (config) => ({
    baseMillis: config.webhookRetryBaseMillis,
    capMillis: WEBHOOK_RETRY_CAP_MILLIS,
  }),
};
