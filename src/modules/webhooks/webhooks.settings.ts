import net from 'node:net';
import { inputError } from '../../lib/errors.js';
import { isPlainObject } from '../../lib/json.js';
import { refusedAddressReason } from './webhooks.address-policy.js';
import { webhookEventTypes } from './webhooks.event-types.js';

/** Wait for a receiver's answer when a hook names no `timeout_ms` (Stream's webhook timeout). */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 6000;
/** Bounds of `timeout_ms`: long enough for a slow receiver, short enough not to hold a worker. */
export const MIN_WEBHOOK_TIMEOUT_MS = 100;
export const MAX_WEBHOOK_TIMEOUT_MS = 30_000;
/** Most event hooks one app may have. */
export const MAX_EVENT_HOOKS = 10;
const MAX_URL_LENGTH = 2048;
const MAX_HOOK_ID_LENGTH = 255;

/** One of an app's `event_hooks`, as stored and as `GET /app` shows it. */
export interface EventHook {
  id: string;
  hookType: 'webhook';
  webhookUrl: string;
  /** Empty: every event type. */
  eventTypes: string[];
  enabled: boolean;
  timeoutMs: number;
}

/** An app's webhook settings. An app that never set them has `''`, `[]` and no hooks. */
export interface WebhookSettings {
  /** '' for none. */
  webhookUrl: string;
  /** Empty: every event type. */
  webhookEvents: string[];
  eventHooks: Array<EventHook & { createdAt: number; updatedAt: number }>;
}

/**
 * What a `PATCH /app` changes of them; an absent field is left as it is. `eventHooks` replaces the
 * list, or with `explicit_event_hooks_deletion` updates the hooks it names and removes `deleteIds`.
 */
export interface WebhookSettingsChange {
  webhookUrl?: string;
  webhookEvents?: string[];
  eventHooks?: {
    hooks: Array<Omit<EventHook, 'id'> & { id?: string }>;
    keepOthers: boolean;
    deleteIds: string[];
  };
}

/** The `PATCH /app` fields this module reads; every other field is the caller's. */
export const webhookSettingFields = [
  'webhook_url',
  'webhook_events',
  'event_hooks',
  'explicit_event_hooks_deletion',
] as const;

/** Fields of an event hook chatport accepts: `created_at`/`updated_at` are what GET /app showed. */
const hookFields = new Set([
  'id',
  'hook_type',
  'webhook_url',
  'event_types',
  'enabled',
  'timeout_ms',
  'delete',
  'created_at',
  'updated_at',
]);

/**
 * Checks a webhook URL: absolute http(s), a host, no credentials. Off `allowPrivate`, a literal address
 * webhooks may not reach is refused here already; names are checked when delivering.
 */
export function parseWebhookUrl(field: string, value: unknown, allowPrivate: boolean): string {
  if (typeof value !== 'string') throw inputError(field, 'must be a string');
  if (value.length > MAX_URL_LENGTH) throw inputError(field, `must be at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw inputError(field, 'must be an absolute http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw inputError(field, 'must be an absolute http or https URL');
  }
  if (url.username || url.password) {
    throw inputError(field, 'must not carry credentials; verify the X-Signature header instead');
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate && net.isIP(host) !== 0) {
    const reason = refusedAddressReason(host);
    if (reason !== null) {
      throw inputError(field, `${host} is a ${reason} address (CHATPORT_WEBHOOK_ALLOW_PRIVATE is off)`);
    }
  }
  return value;
}

function parseEventTypes(field: string, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw inputError(field, 'must be a list of event types');
  value.forEach((type: unknown, index) => {
    if (typeof type !== 'string' || !webhookEventTypes.includes(type)) {
      throw inputError(
        `${field}.${index}`,
        `chatport sends only ${webhookEventTypes.join(', ')}; an empty list means all of them`,
      );
    }
  });
  return [...new Set(value as string[])];
}

function parseHook(entry: unknown, field: string, allowPrivate: boolean) {
  if (!isPlainObject(entry)) throw inputError(field, 'must be an event hook object');
  for (const key of Object.keys(entry)) {
    if (!hookFields.has(key)) throw inputError(`${field}.${key}`, 'is not supported by chatport');
  }
  const { id, hook_type: hookType, enabled, timeout_ms: timeout } = entry;
  if (id !== undefined && (typeof id !== 'string' || id === '' || id.length > MAX_HOOK_ID_LENGTH)) {
    throw inputError(`${field}.id`, `must be a non-empty string of at most ${MAX_HOOK_ID_LENGTH} characters`);
  }
  if (hookType !== 'webhook') {
    throw inputError(`${field}.hook_type`, 'chatport sends only hooks of type "webhook"');
  }
  if (typeof enabled !== 'boolean') throw inputError(`${field}.enabled`, 'must be true or false');
  if (entry.delete !== undefined && typeof entry.delete !== 'boolean') {
    throw inputError(`${field}.delete`, 'must be true or false');
  }
  let timeoutMs = DEFAULT_WEBHOOK_TIMEOUT_MS;
  if (timeout !== undefined && timeout !== null) {
    if (
      !Number.isInteger(timeout) ||
      (timeout as number) < MIN_WEBHOOK_TIMEOUT_MS ||
      (timeout as number) > MAX_WEBHOOK_TIMEOUT_MS
    ) {
      throw inputError(
        `${field}.timeout_ms`,
        `must be an integer from ${MIN_WEBHOOK_TIMEOUT_MS} to ${MAX_WEBHOOK_TIMEOUT_MS}`,
      );
    }
    timeoutMs = timeout as number;
  }
  return {
    ...(id === undefined ? {} : { id: id as string }),
    hookType: 'webhook' as const,
    webhookUrl: parseWebhookUrl(`${field}.webhook_url`, entry.webhook_url, allowPrivate),
    eventTypes: parseEventTypes(`${field}.event_types`, entry.event_types),
    enabled,
    timeoutMs,
    delete: entry.delete === true,
  };
}

/**
 * Validates the webhook fields of a `PATCH /app` body, naming the field at fault (`event_hooks.1.
 * webhook_url`). Pure; whether the ids exist is for the repository.
 */
export function parseWebhookSettingsChange(
  body: Record<string, unknown>,
  { allowPrivate }: { allowPrivate: boolean },
): WebhookSettingsChange {
  const change: WebhookSettingsChange = {};
  // null, like '', removes the webhook, as null removes every event hook and resets webhook_events.
  if (body.webhook_url !== undefined) {
    const url = body.webhook_url ?? '';
    change.webhookUrl = url === '' ? '' : parseWebhookUrl('webhook_url', url, allowPrivate);
  }
  if (body.webhook_events !== undefined)
    change.webhookEvents = parseEventTypes('webhook_events', body.webhook_events);
  const explicit = body.explicit_event_hooks_deletion;
  if (explicit !== undefined && explicit !== null && typeof explicit !== 'boolean') {
    throw inputError('explicit_event_hooks_deletion', 'must be true or false');
  }
  const keepOthers = explicit === true;
  if (body.event_hooks !== undefined) {
    const entries = body.event_hooks ?? [];
    if (!Array.isArray(entries)) throw inputError('event_hooks', 'must be a list of event hooks');
    const parsed = entries.map((entry: unknown, index) =>
      parseHook(entry, `event_hooks.${index}`, allowPrivate),
    );
    const seen = new Set<string>();
    parsed.forEach((hook, index) => {
      if (hook.id === undefined) return;
      if (seen.has(hook.id)) throw inputError(`event_hooks.${index}.id`, `${hook.id} is listed twice`);
      seen.add(hook.id);
    });
    const deleteIds: string[] = [];
    parsed.forEach((hook, index) => {
      if (!hook.delete) return;
      if (!keepOthers) {
        throw inputError(
          `event_hooks.${index}.delete`,
          'needs explicit_event_hooks_deletion: true (otherwise leave the hook out to remove it)',
        );
      }
      if (hook.id === undefined) throw inputError(`event_hooks.${index}.id`, 'is required to delete a hook');
      deleteIds.push(hook.id);
    });
    const hooks = parsed.filter((hook) => !hook.delete).map(({ delete: _delete, ...hook }) => hook);
    if (!keepOthers && hooks.length > MAX_EVENT_HOOKS) {
      throw inputError('event_hooks', `can list at most ${MAX_EVENT_HOOKS} hooks`);
    }
    change.eventHooks = { hooks, keepOthers, deleteIds };
  } else if (keepOthers) {
    throw inputError('explicit_event_hooks_deletion', 'applies only together with event_hooks');
  }
  return change;
}
