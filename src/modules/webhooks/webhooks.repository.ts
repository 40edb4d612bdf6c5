import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type {
  Database,
  EventHookRow,
  WebhookAttemptRow,
  WebhookDeliveryRow,
} from '../../database/database.types.js';
import { inputError } from '../../lib/errors.js';
import { parseArray } from '../../lib/json.js';
import { subscribesTo } from './webhooks.event-types.js';
import {
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  MAX_EVENT_HOOKS,
  type EventHook,
  type WebhookSettings,
  type WebhookSettingsChange,
} from './webhooks.settings.js';

function hookOf(row: EventHookRow): WebhookSettings['eventHooks'][number] {
  return {
    id: row.id,
    hookType: 'webhook',
    webhookUrl: row.webhook_url,
    eventTypes: parseArray<string>(row.event_types),
    enabled: row.enabled === 1,
    timeoutMs: row.timeout_ms,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** An app's webhook settings; defaults (no webhook, no hooks) for an app that never set them. */
export async function readWebhookSettings(db: Kysely<Database>, appId: number): Promise<WebhookSettings> {
  const [settings, hooks] = await Promise.all([
    db.selectFrom('app_settings').selectAll().where('app_id', '=', appId).executeTakeFirst(),
    db.selectFrom('event_hooks').selectAll().where('app_id', '=', appId).orderBy('position').execute(),
  ]);
  return {
    webhookUrl: settings?.webhook_url ?? '',
    webhookEvents: parseArray<string>(settings?.webhook_events),
    eventHooks: hooks.map(hookOf),
  };
}

/** The hooks after `change`, in order; refuses deleting an unknown id and more than MAX_EVENT_HOOKS. */
function mergeHooks(
  existing: WebhookSettings['eventHooks'],
  change: NonNullable<WebhookSettingsChange['eventHooks']>,
): Array<EventHook & { createdAt?: number }> {
  const known = new Map(existing.map((hook) => [hook.id, hook]));
  const named = (hook: Omit<EventHook, 'id'> & { id?: string }) => {
    const id = hook.id ?? crypto.randomUUID();
    return { ...hook, id, createdAt: known.get(id)?.createdAt };
  };
  if (!change.keepOthers) return change.hooks.map(named);
  for (const id of change.deleteIds) {
    if (!known.has(id)) throw inputError('event_hooks', `there is no event hook ${id} to delete`);
  }
  const merged: Array<EventHook & { createdAt?: number }> = existing.filter(
    (hook) => !change.deleteIds.includes(hook.id),
  );
  for (const hook of change.hooks.map(named)) {
    const index = merged.findIndex((kept) => kept.id === hook.id);
    if (index === -1) merged.push(hook);
    else merged[index] = hook;
  }
  if (merged.length > MAX_EVENT_HOOKS) {
    throw inputError('event_hooks', `an app can have at most ${MAX_EVENT_HOOKS} event hooks`);
  }
  return merged;
}

/** Applies a `PATCH /app` change of the webhook settings. Run it in a transaction: it rewrites rows. */
export async function saveWebhookSettings(
  db: Kysely<Database>,
  appId: number,
  change: WebhookSettingsChange,
  now: number,
): Promise<void> {
  if (change.webhookUrl === undefined && change.webhookEvents === undefined && !change.eventHooks) return;
  const current = await readWebhookSettings(db, appId);
  if (change.webhookUrl !== undefined || change.webhookEvents !== undefined) {
    const row = {
      webhook_url: change.webhookUrl ?? current.webhookUrl,
      webhook_events: JSON.stringify(change.webhookEvents ?? current.webhookEvents),
      updated_at: now,
    };
    await db
      .insertInto('app_settings')
      .values({ app_id: appId, ...row })
      .onConflict((oc) => oc.column('app_id').doUpdateSet(row))
      .execute();
  }
  if (change.eventHooks) {
    const hooks = mergeHooks(current.eventHooks, change.eventHooks);
    await db.deleteFrom('event_hooks').where('app_id', '=', appId).execute();
    if (hooks.length > 0) {
      await db
        .insertInto('event_hooks')
        .values(
          hooks.map((hook, position) => ({
            app_id: appId,
            id: hook.id,
            position,
            hook_type: hook.hookType,
            webhook_url: hook.webhookUrl,
            event_types: JSON.stringify(hook.eventTypes),
            enabled: hook.enabled ? 1 : 0,
            timeout_ms: hook.timeoutMs,
            created_at: hook.createdAt ?? now,
            updated_at: now,
          })),
        )
        .execute();
    }
  }
}

/** Where an event of `type` goes: the app's webhook_url, then each enabled hook, when subscribed. */
export interface WebhookTarget {
  /** Null for the app's `webhook_url`. */
  hookId: string | null;
  url: string;
  timeoutMs: number;
}

export async function findWebhookTargets(
  db: Kysely<Database>,
  appId: number,
  type: string,
): Promise<WebhookTarget[]> {
  const settings = await readWebhookSettings(db, appId);
  const targets: WebhookTarget[] = [];
  if (settings.webhookUrl !== '' && subscribesTo(settings.webhookEvents, type)) {
    targets.push({ hookId: null, url: settings.webhookUrl, timeoutMs: DEFAULT_WEBHOOK_TIMEOUT_MS });
  }
  for (const hook of settings.eventHooks) {
    if (hook.enabled && subscribesTo(hook.eventTypes, type)) {
      targets.push({ hookId: hook.id, url: hook.webhookUrl, timeoutMs: hook.timeoutMs });
    }
  }
  return targets;
}

/** Whether `target` is still configured as it was: a removed or disabled hook gets no more attempts. */
export async function isTargetConfigured(
  db: Kysely<Database>,
  appId: number,
  target: Pick<WebhookDeliveryRow, 'hook_id' | 'webhook_url'>,
): Promise<boolean> {
  const settings = await readWebhookSettings(db, appId);
  if (target.hook_id === null) return settings.webhookUrl === target.webhook_url;
  const hook = settings.eventHooks.find((candidate) => candidate.id === target.hook_id);
  return hook !== undefined && hook.enabled && hook.webhookUrl === target.webhook_url;
}

export async function insertDelivery(db: Kysely<Database>, row: WebhookDeliveryRow): Promise<void> {
  await db.insertInto('webhook_deliveries').values(row).execute();
}

/** A delivery with the state of the task that sends it. */
export type DeliveryWithTask = WebhookDeliveryRow & {
  status: string;
  max_attempts: number;
  run_after: number;
  updated_at: number;
};

function deliveriesWithTasks(db: Kysely<Database>, appId: number) {
  return db
    .selectFrom('webhook_deliveries')
    .innerJoin('tasks', 'tasks.id', 'webhook_deliveries.queue_task_id')
    .selectAll('webhook_deliveries')
    .select(['tasks.status', 'tasks.max_attempts', 'tasks.run_after', 'tasks.updated_at'])
    .where('webhook_deliveries.app_id', '=', appId);
}

export async function findDelivery(
  db: Kysely<Database>,
  appId: number,
  id: string,
): Promise<DeliveryWithTask | undefined> {
  return deliveriesWithTasks(db, appId).where('webhook_deliveries.id', '=', id).executeTakeFirst();
}

/** An app's deliveries, newest first, optionally only those about one task. */
export async function listDeliveries(
  db: Kysely<Database>,
  appId: number,
  { taskId, limit, offset }: { taskId?: string; limit: number; offset: number },
): Promise<DeliveryWithTask[]> {
  return deliveriesWithTasks(db, appId)
    .$if(taskId !== undefined, (query) => query.where('webhook_deliveries.task_id', '=', taskId!))
    .orderBy('webhook_deliveries.created_at', 'desc')
    .orderBy('webhook_deliveries.id', 'desc')
    .limit(limit)
    .offset(offset)
    .execute();
}

/** The attempts of the given deliveries, in attempt order. */
export async function attemptsOf(db: Kysely<Database>, deliveryIds: string[]): Promise<WebhookAttemptRow[]> {
  if (deliveryIds.length === 0) return [];
  return db
    .selectFrom('webhook_attempts')
    .selectAll()
    .where('delivery_id', 'in', deliveryIds)
    .orderBy('delivery_id')
    .orderBy('attempt')
    .execute();
}

/** Records that an attempt started, before anything is sent, so that a crash mid-attempt shows. */
export async function startAttempt(
  db: Kysely<Database>,
  attempt: Pick<WebhookAttemptRow, 'delivery_id' | 'attempt' | 'started_at'>,
): Promise<void> {
  await db
    .insertInto('webhook_attempts')
    .values({ ...attempt, finished_at: null, outcome: null, response_status: null, error: null })
    .onConflict((oc) =>
      oc
        .columns(['delivery_id', 'attempt'])
        .doUpdateSet({ started_at: attempt.started_at, finished_at: null }),
    )
    .execute();
}

export async function finishAttempt(
  db: Kysely<Database>,
  attempt: Pick<
    WebhookAttemptRow,
    'delivery_id' | 'attempt' | 'finished_at' | 'outcome' | 'response_status' | 'error'
  >,
): Promise<void> {
  const { delivery_id: deliveryId, attempt: number, ...changes } = attempt;
  await db
    .updateTable('webhook_attempts')
    .set(changes)
    .where('delivery_id', '=', deliveryId)
    .where('attempt', '=', number)
    .execute();
}
