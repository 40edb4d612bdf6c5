import { isDeepStrictEqual } from 'node:util';
import type { AppRow } from '../../database/database.types.js';
import { inputError } from '../../lib/errors.js';
import { isPlainObject } from '../../lib/json.js';
import { formatMicros } from '../../lib/time.js';
import { builtInChannelConfigs } from '../channel-types/channel-types.declaration.js';
import {
  parseWebhookSettingsChange,
  webhookSettingFields,
  type WebhookSettings,
  type WebhookSettingsChange,
} from '../webhooks/webhooks.settings.js';

/**
 * The app settings chatport does not implement, each with the value that says so (off, none, empty):
 * `GET /app` shows them, so that code reading Stream's settings finds every field it expects, and
 * `PATCH /app` accepts one only with that same value (a no-op) and refuses any other, never storing a
 * setting it would then ignore. Only the webhook settings (webhooks.settings.ts) can change.
 */
export const fixedAppSettings: Readonly<Record<string, unknown>> = {
  organization: '',
  placement: '',
  push_notifications: {
    version: 'v2',
    offline_only: false,
    apn: { enabled: false, development: false },
    firebase: { enabled: false },
    huawei: { enabled: false },
    xiaomi: { enabled: false },
  },
  moderation_webhook_url: '',
  call_types: {},
  policies: {},
  suspended: false,
  suspended_explanation: '',
  disable_auth_checks: false,
  disable_permissions_checks: false,
  permission_version: 'v2',
  user_search_disallowed_roles: [],
  multi_tenant_enabled: false,
  allow_multi_user_devices: false,
  image_moderation_enabled: false,
  async_url_enrich_enabled: false,
  auto_translation_enabled: false,
  custom_action_handler_url: '',
  before_message_send_hook_url: '',
  enforce_unique_usernames: 'no',
  sqs_url: '',
  sqs_key: '',
  sqs_secret: '',
  sns_topic_arn: '',
  sns_key: '',
  sns_secret: '',
  file_upload_config: { size_limit: 0 },
  image_upload_config: { size_limit: 0 },
  grants: {},
  campaign_enabled: false,
  reminders_interval: 0,
  cdn_expiration_seconds: 0,
  moderation_enabled: false,
  moderation_multitenant_blocklist_enabled: false,
  guest_user_creation_disabled: false,
  use_hook_v2: true,
  user_response_time_enabled: false,
  moderation_llm_configurability_enabled: false,
  max_aggregated_activities_length: 0,
  feed_audit_logs_enabled: false,
  moderation_video_call_moderation_enabled: false,
  moderation_audio_call_moderation_enabled: false,
  member_custom_on_messages_enabled: false,
};

/** `GET /app`'s `app`: Stream's AppResponseFields, the webhook settings as stored. */
export function presentAppSettings(
  app: Pick<AppRow, 'id' | 'name' | 'created_at'>,
  webhooks: WebhookSettings,
) {
  return {
    id: app.id,
    name: app.name,
    ...fixedAppSettings,
    // Changed only through channel types, which chatport serves but does not let change.
    channel_configs: builtInChannelConfigs(app.created_at),
    webhook_url: webhooks.webhookUrl,
    webhook_events: webhooks.webhookEvents,
    event_hooks: webhooks.eventHooks.map((hook) => ({
      id: hook.id,
      hook_type: hook.hookType,
      webhook_url: hook.webhookUrl,
      event_types: hook.eventTypes,
      enabled: hook.enabled,
      timeout_ms: hook.timeoutMs,
      created_at: formatMicros(hook.createdAt),
      updated_at: formatMicros(hook.updatedAt),
    })),
  };
}

const changeable = new Set<string>(webhookSettingFields);

/**
 * Validates a `PATCH /app` body (Stream's UpdateAppRequest): the webhook fields are parsed; any other
 * field is refused with 400 code 4 naming it, unless it repeats the value chatport always has.
 */
export function parseAppSettingsUpdate(
  body: unknown,
  options: { allowPrivateWebhooks: boolean },
): WebhookSettingsChange {
  if (!isPlainObject(body)) throw inputError('body', 'must be a JSON object');
  for (const [field, value] of Object.entries(body)) {
    if (changeable.has(field) || value === undefined) continue;
    if (!Object.hasOwn(fixedAppSettings, field)) {
      throw inputError(field, 'is not an app setting chatport implements; only webhook settings can change');
    }
    if (!isDeepStrictEqual(value, fixedAppSettings[field])) {
      throw inputError(
        field,
        `chatport does not implement this setting; it is always ${JSON.stringify(fixedAppSettings[field])}`,
      );
    }
  }
  return parseWebhookSettingsChange(body, { allowPrivate: options.allowPrivateWebhooks });
}
