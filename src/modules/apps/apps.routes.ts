import { Type } from 'typebox';
import type { Context } from '../../context.js';
import type { HttpApp } from '../../http/http-app.js';
import { webhookEventTypes } from '../webhooks/webhooks.event-types.js';
import { MAX_WEBHOOK_TIMEOUT_MS, MIN_WEBHOOK_TIMEOUT_MS } from '../webhooks/webhooks.settings.js';
import { getAppSettings, updateAppSettings } from './apps.usecases.js';

const EventTypes = Type.Array(Type.String({ enum: [...webhookEventTypes] }), {
  description: 'event types sent to this target; empty or absent: all of them',
});

const EventHookFields = {
  id: Type.String({ description: 'assigned (a UUID) when absent' }),
  hook_type: Type.Literal('webhook'),
  webhook_url: Type.String({ description: 'absolute http(s) URL' }),
  event_types: EventTypes,
  enabled: Type.Boolean(),
  timeout_ms: Type.Integer({
    minimum: MIN_WEBHOOK_TIMEOUT_MS,
    maximum: MAX_WEBHOOK_TIMEOUT_MS,
    description: 'wait for an answer, per attempt; default 6000',
  }),
};

const EventHookInput = Type.Object(
  {
    ...EventHookFields,
    id: Type.Optional(EventHookFields.id),
    event_types: Type.Optional(Type.Union([EventTypes, Type.Null()])),
    timeout_ms: Type.Optional(EventHookFields.timeout_ms),
    delete: Type.Optional(
      Type.Boolean({ description: 'with explicit_event_hooks_deletion: remove the hook of this id' }),
    ),
  },
  { additionalProperties: true },
);

const UpdateAppBody = Type.Object(
  {
    webhook_url: Type.Optional(
      Type.Union([Type.String(), Type.Null()], { description: "'' or null: no webhook" }),
    ),
    webhook_events: Type.Optional(Type.Union([EventTypes, Type.Null()])),
    event_hooks: Type.Optional(
      Type.Union([Type.Array(EventHookInput), Type.Null()], {
        description: 'replaces the app’s hooks: hooks left out are removed (null: all of them)',
      }),
    ),
    explicit_event_hooks_deletion: Type.Optional(
      Type.Boolean({ description: 'true: keep hooks left out, remove those sent with delete: true' }),
    ),
  },
  {
    additionalProperties: true,
    description:
      'Stream’s UpdateAppRequest. Only the webhook settings change; every other field is refused with ' +
      '400 code 4 naming it, unless it repeats the value GET /app shows (chatport does not implement it).',
  },
);

const AppSettingsResponse = Type.Object({
  app: Type.Object(
    {
      id: Type.Integer(),
      name: Type.String(),
      webhook_url: Type.String(),
      webhook_events: Type.Array(Type.String()),
      event_hooks: Type.Array(
        Type.Object({ ...EventHookFields, created_at: Type.String(), updated_at: Type.String() }),
      ),
    },
    {
      additionalProperties: true,
      description:
        'Stream’s AppResponseFields: every field it requires; the settings chatport does not implement ' +
        'show the value that says so (off, none, empty)',
    },
  ),
  duration: Type.Optional(Type.String()),
});

/** `GET /app` and `PATCH /app` (`getAppSettings`, `updateAppSettings`): server-side only. */
export function registerAppRoutes(app: HttpApp, context: Context): void {
  app.get(
    '/app',
    { config: { operation: 'GetApp' }, schema: { response: { 200: AppSettingsResponse } } },
    async (request) => ({ app: await getAppSettings(context, request.app) }),
  );

  app.patch(
    '/app',
    {
      config: { operation: 'UpdateApp' },
      schema: {
        body: UpdateAppBody,
        response: { 200: Type.Object({ duration: Type.Optional(Type.String()) }) },
      },
    },
    async (request) => {
      await updateAppSettings(context, request.app.id, request.body);
      return {};
    },
  );
}
