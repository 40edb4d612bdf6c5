import type { OpenAPIV3_2 } from '@fastify/swagger';
import { Type, type TSchema } from 'typebox';
import { webhookEventTypes } from './webhooks.event-types.js';

const Timestamp = Type.String({ description: 'RFC 3339, microseconds' });

const EventFields = {
  task_id: Type.String({ description: 'the export task' }),
  started_at: Timestamp,
  finished_at: Timestamp,
  created_at: Timestamp,
  custom: Type.Object({}, { description: 'always empty' }),
};

/** Stream's AsyncExportChannelsEvent / AsyncExportUsersEvent. */
const SuccessEvent = (type: string) =>
  Type.Object({
    type: Type.Literal(type),
    ...EventFields,
    url: Type.String({
      description:
        'download link signed when this attempt was sent, valid CHATPORT_LINK_TTL_HOURS from then; empty once ' +
        'retention removed the file',
    }),
  });

/** Stream's AsyncExportErrorEvent. */
const ErrorEvent = (type: string) =>
  Type.Object({
    type: Type.Literal(type),
    ...EventFields,
    error: Type.String({ description: 'why it failed' }),
  });

const headers = {
  'X-Signature': 'hex HMAC-SHA256 of the raw body under the app’s API secret',
  'X-Webhook-Id': 'the delivery’s id, the same on every attempt: deduplicate on it',
  'X-Webhook-Attempt': 'the attempt number, 1 first',
  'X-Api-Key': 'the app’s API key, to pick the secret that verifies the signature',
};

function operation(type: string, schema: TSchema): OpenAPIV3_2.PathItemObject {
  const item = {
    post: {
      summary: type,
      description:
        'POSTed to every target subscribed to it (webhook_url with webhook_events, event_hooks) when an export ' +
        'ends. Answer 2xx; anything else, a timeout or a connection error is retried with exponential backoff ' +
        '(CHATPORT_WEBHOOK_MAX_ATTEMPTS attempts). Attempts are listed by GET /webhook_deliveries.',
      parameters: Object.entries(headers).map(([name, description]) => ({
        in: 'header',
        name,
        required: true,
        description,
        schema: { type: 'string' },
      })),
      requestBody: {
        required: true,
        content: { 'application/json': { schema } },
      },
      responses: { '2XX': { description: 'received' } },
    },
  };
  // A TypeBox schema is JSON Schema, which is what an OpenAPI 3.1 schema object is.
  return item as OpenAPIV3_2.PathItemObject;
}

/** The OpenAPI 3.1 `webhooks` section: the events chatport posts, their body and headers. */
export const webhookEventsOpenApi: Record<string, OpenAPIV3_2.PathItemObject> = Object.fromEntries(
  webhookEventTypes.map((type) => [
    type,
    operation(type, type.endsWith('.success') ? SuccessEvent(type) : ErrorEvent(type)),
  ]),
);
