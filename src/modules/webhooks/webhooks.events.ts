import crypto from 'node:crypto';
import { formatMicros } from '../../lib/time.js';
import { insertTask } from '../tasks/tasks.enqueue.js';
import type { EndedTask, TaskEndHook } from '../tasks/tasks.types.js';
import { webhookDeliveryTask, type WebhookDeliveryPayload } from './webhooks.delivery-task.js';
import { exportEventPrefixes } from './webhooks.event-types.js';
import { findWebhookTargets, insertDelivery } from './webhooks.repository.js';

/** The export's own start and end (its result's) when it completed; its last attempt's otherwise. */
function timesOf(task: EndedTask): { startedAt: number; finishedAt: number } {
  const { started_at: started, finished_at: finished } = task.result ?? {};
  return {
    startedAt: typeof started === 'number' ? started : (task.startedAt ?? task.createdAt),
    finishedAt: typeof finished === 'number' ? finished : task.finishedAt,
  };
}

/**
 * Announces the end of every channel and user export: in the transaction that marks the export
 * completed or failed, one delivery (a row and a `webhook-delivery` task) per target subscribed to the
 * event, so an event is queued exactly when an export ends and is never lost. Sending happens later,
 * in the delivery's own task: a receiver that is slow or down never holds up or fails the export.
 */
export const exportWebhookEvents: TaskEndHook = {
  kinds: Object.keys(exportEventPrefixes),
  async onEnd({ db, context, task }) {
    const type = `${exportEventPrefixes[task.kind]}.${task.status === 'completed' ? 'success' : 'error'}`;
    const targets = await findWebhookTargets(db, task.appId, type);
    if (targets.length === 0) return;
    const { startedAt, finishedAt } = timesOf(task);
    const event = {
      type,
      task_id: task.id,
      started_at: formatMicros(startedAt),
      finished_at: formatMicros(finishedAt),
      created_at: formatMicros(task.finishedAt),
      custom: {},
      ...(task.status === 'failed' ? { error: task.error?.description ?? 'the export failed' } : {}),
    };
    for (const target of targets) {
      const deliveryId = crypto.randomUUID();
      const payload: WebhookDeliveryPayload = { deliveryId };
      const queued = await insertTask(db, context.clock, {
        appId: task.appId,
        kind: webhookDeliveryTask.kind,
        payload,
        maxAttempts: context.config.webhookMaxAttempts,
      });
      await insertDelivery(db, {
        id: deliveryId,
        app_id: task.appId,
        queue_task_id: queued.id,
        task_id: task.id,
        event_type: type,
        hook_id: target.hookId,
        webhook_url: target.url,
        timeout_ms: target.timeoutMs,
        event: JSON.stringify(event),
        created_at: queued.created_at,
      });
    }
  },
};
