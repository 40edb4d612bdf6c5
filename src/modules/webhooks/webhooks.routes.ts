import { Type } from 'typebox';
import type { Context } from '../../context.js';
import type { HttpApp } from '../../http/http-app.js';
import { notFound } from '../../lib/errors.js';
import { presentDelivery } from './webhooks.presenter.js';
import { attemptsOf, findDelivery, listDeliveries } from './webhooks.repository.js';

/** Deliveries one list request answers at most, and when it does not say. */
const MAX_LIMIT = 100;
const DEFAULT_LIMIT = 25;

const Timestamp = Type.String({ description: 'RFC 3339, microseconds' });
// PostgreSQL text cannot hold NUL: an id carrying one names nothing, and is refused as input.
const Id = (description?: string) => Type.String({ minLength: 1, pattern: '^[^\\u0000]*$', description });

const Attempt = Type.Object({
  attempt: Type.Integer({ description: 'the X-Webhook-Attempt it was sent with, 1 first' }),
  status: Type.String({
    enum: ['delivered', 'failed', 'refused', 'cancelled', 'sending', 'interrupted'],
    description:
      'delivered: a 2xx answer; failed: a timeout, connection error or other status (retried); refused: ' +
      'the target resolves to an address webhooks may not reach; cancelled: the webhook was removed; ' +
      'interrupted: its worker stopped mid-attempt',
  }),
  response_code: Type.Union([Type.Integer(), Type.Null()], { description: 'the receiver’s HTTP status' }),
  error: Type.Union([Type.String(), Type.Null()]),
  started_at: Timestamp,
  finished_at: Type.Union([Timestamp, Type.Null()]),
});

const Delivery = Type.Object({
  id: Type.String({ description: 'sent as X-Webhook-Id, the same on every attempt' }),
  task_id: Type.String({ description: 'the export the event is about' }),
  event_type: Type.String(),
  hook_id: Type.Union([Type.String(), Type.Null()], { description: 'null: the app’s webhook_url' }),
  webhook_url: Type.String(),
  status: Type.String({ enum: ['queued', 'sending', 'retrying', 'delivered', 'failed'] }),
  attempts: Type.Array(Attempt),
  max_attempts: Type.Integer(),
  next_attempt_at: Type.Union([Timestamp, Type.Null()], {
    description: 'when the next attempt may start, while queued or retrying',
  }),
  event: Type.Unsafe<Record<string, unknown>>({
    description: 'the event as sent, less the download url (signed afresh for every attempt)',
  }),
  created_at: Timestamp,
  updated_at: Timestamp,
});

const DeliveriesQuery = Type.Object(
  {
    api_key: Type.Optional(Type.String()),
    task_id: Type.Optional(Id('only the events about this task')),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT })),
    // Past 2^53 a number is no longer exact, and past 2^63 no database takes it (a 500 before).
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 })),
  },
  { additionalProperties: false, description: 'any other parameter is refused with 400 code 4' },
);

const duration = Type.Optional(Type.String());

/**
 * `GET /webhook_deliveries` and `GET /webhook_deliveries/{id}`: every webhook event chatport queued for
 * the calling app, newest first, with each attempt (status, response code, error) and the next retry.
 * chatport's own (Stream has no such endpoint); server-side only.
 */
export function registerWebhookRoutes(app: HttpApp, context: Context): void {
  app.get(
    '/webhook_deliveries',
    {
      config: { operation: 'ListWebhookDeliveries' },
      schema: {
        querystring: DeliveriesQuery,
        response: { 200: Type.Object({ deliveries: Type.Array(Delivery), duration }) },
      },
    },
    async (request) => {
      const { task_id: taskId, limit = DEFAULT_LIMIT, offset = 0 } = request.query;
      const deliveries = await listDeliveries(context.db, request.app.id, { taskId, limit, offset });
      const attempts = await attemptsOf(
        context.db,
        deliveries.map((delivery) => delivery.id),
      );
      return {
        deliveries: deliveries.map((delivery) =>
          presentDelivery(
            delivery,
            attempts.filter((attempt) => attempt.delivery_id === delivery.id),
          ),
        ),
      };
    },
  );

  app.get(
    '/webhook_deliveries/:id',
    {
      config: { operation: 'GetWebhookDelivery' },
      schema: {
        params: Type.Object({ id: Id() }),
        response: { 200: Type.Object({ delivery: Delivery, duration }) },
      },
    },
    async (request) => {
      const delivery = await findDelivery(context.db, request.app.id, request.params.id);
      if (!delivery) throw notFound(`Can't find webhook delivery with id ${request.params.id}`);
      return { delivery: presentDelivery(delivery, await attemptsOf(context.db, [delivery.id])) };
    },
  );
}
