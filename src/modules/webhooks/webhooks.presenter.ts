import type { WebhookAttemptRow } from '../../database/database.types.js';
import { parseObject } from '../../lib/json.js';
import { formatMicros, formatMicrosOrNull } from '../../lib/time.js';
import type { DeliveryWithTask } from './webhooks.repository.js';

/** A delivery's state, from the task that sends it. */
const deliveryStatuses: Record<string, string> = {
  waiting: 'queued',
  running: 'sending',
  pending: 'retrying',
  completed: 'delivered',
  failed: 'failed',
};

/**
 * How an attempt went: `delivered`, `failed` (will be retried while attempts remain), `refused` (the
 * address), `cancelled` (the webhook was removed), `sending` (under way) or `interrupted` (its worker
 * stopped before it knew: the queue retried the delivery).
 */
function attemptStatus(attempt: WebhookAttemptRow, delivery: DeliveryWithTask, last: boolean): string {
  if (attempt.outcome !== null) return attempt.outcome;
  return last && delivery.status === 'running' ? 'sending' : 'interrupted';
}

/** One delivery with every attempt, as the deliveries routes answer it. */
export function presentDelivery(delivery: DeliveryWithTask, attempts: WebhookAttemptRow[]) {
  const status = deliveryStatuses[delivery.status] ?? delivery.status;
  const waiting = status === 'queued' || status === 'retrying';
  return {
    id: delivery.id,
    task_id: delivery.task_id,
    event_type: delivery.event_type,
    hook_id: delivery.hook_id,
    webhook_url: delivery.webhook_url,
    status,
    attempts: attempts.map((attempt, index) => ({
      attempt: attempt.attempt,
      status: attemptStatus(attempt, delivery, index === attempts.length - 1),
      response_code: attempt.response_status,
      error: attempt.error,
      started_at: formatMicros(attempt.started_at),
      finished_at: formatMicrosOrNull(attempt.finished_at),
    })),
    max_attempts: delivery.max_attempts,
    next_attempt_at: waiting ? formatMicros(delivery.run_after) : null,
    event: parseObject(delivery.event),
    created_at: formatMicros(delivery.created_at),
    updated_at: formatMicros(delivery.updated_at),
  };
}
