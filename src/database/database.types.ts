/**
 * Glossary of the stored model. Every row belongs to one app (`app_id`); every query filters on it.
 * - time columns (`*_at`, `run_after`): BIGINT microseconds since the epoch, UTC (see lib/time.ts).
 * - `custom` columns: a JSON object (text) of the fields the API carries flattened beside the known ones.
 * - flags: INTEGER 0 or 1, the same on both databases.
 * - cid: `<type>:<id>`, a channel's name within its app.
 * - change tracking (migrations/0008-change-tracking.ts, 0015 for channel mutes): messages, reactions,
 *   members and channel_mutes also have a `change_mark` column (and reactions a `cid`), written by the
 *   database's triggers on every write and read only by the incremental export's SQL, so they are not
 *   declared here: code never writes them.
 */
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

export interface AppsTable {
  id: Generated<number>;
  api_key: string;
  api_secret: string;
  name: string;
  created_at: number;
}

export interface UsersTable {
  app_id: number;
  id: string;
  role: string;
  custom: string;
  teams: string;
  banned: number;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  deactivated_at: number | null;
}

export interface ChannelsTable {
  app_id: number;
  cid: string;
  type: string;
  id: string;
  created_by_id: string | null;
  custom: string;
  member_count: number;
  frozen: number;
  disabled: number;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  truncated_at: number | null;
  truncated_by_id: string | null;
  last_message_at: number | null;
  /** 1 while soft-deleted with `skip_truncate`: created again, it keeps its history. Default 0. */
  skip_truncate: Generated<number>;
}

export interface MembersTable {
  app_id: number;
  cid: string;
  user_id: string;
  channel_role: string;
  created_at: number;
  updated_at: number;
  /** The member's own truncation (`truncate` with `member_ids`): messages at or before it are hidden from them. */
  truncated_at: Generated<number | null>;
  /** The member's custom data. */
  custom: string;
  /** 1 when the user was invited: pending until `invite_accepted_at` or `invite_rejected_at` is set. */
  invited: number;
  invite_accepted_at: number | null;
  invite_rejected_at: number | null;
  /** The member pinned (`channel.pin`) or archived (`channel.archive`) the channel for themselves. */
  pinned_at: number | null;
  archived_at: number | null;
  /** The member hid the channel (`POST .../hide`): left out of their queryChannels until shown. */
  hidden: number;
  /** Messages created at or before this time are hidden from the member (`hide_history`, `clear_history`). */
  hide_messages_before: number | null;
}

/** A user's mute of a channel (`POST /moderation/mute/channel`); `expires_at` null: until unmuted. */
export interface ChannelMutesTable {
  app_id: number;
  user_id: string;
  cid: string;
  created_at: number;
  updated_at: number;
  expires_at: number | null;
}

export interface MessagesTable {
  app_id: number;
  id: string;
  cid: string;
  user_id: string;
  /** The message's own type (regular, reply, system, ...); a soft-deleted message answers as `deleted`. */
  type: string;
  text: string;
  html: string;
  parent_id: string | null;
  show_in_channel: number;
  quoted_message_id: string | null;
  attachments: string;
  mentioned_users: string;
  custom: string;
  reply_count: number;
  reaction_counts: string;
  reaction_scores: string;
  pinned: number;
  silent: number;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface ReactionsTable {
  app_id: number;
  message_id: string;
  user_id: string;
  type: string;
  score: number;
  custom: string;
  created_at: number;
  updated_at: number;
}

/**
 * A message, reaction, member or channel mute deleted for good, written by the database as the row
 * goes: what an incremental export reports as a tombstone. Pruned by the retention sweeper after the
 * horizon (CHATPORT_RETENTION_DAYS + 1 day). `entity`: message (message_id), reaction (message_id,
 * user_id, reaction_type), member (user_id) or channel_mute (user_id).
 */
export interface TombstonesTable {
  id: Generated<number>;
  app_id: number;
  cid: string;
  entity: string;
  message_id: string | null;
  user_id: string | null;
  reaction_type: string | null;
  deleted_at: number;
  change_mark: Generated<ChangeMark>;
}

/** Durable background work: deletes, exports. See modules/tasks for the lease protocol. */
export interface TasksTable {
  id: string;
  app_id: number;
  kind: string;
  /** waiting | pending | running | completed | failed */
  status: string;
  payload: string;
  result: string | null;
  error: string | null;
  /** How many attempts have started; completion is fenced on it. */
  attempt: number;
  max_attempts: number;
  /** Earliest time the next attempt may start (backoff). */
  run_after: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
  /** Storage key of the file a completed export published. */
  file_key: string | null;
  /** When the retention sweeper deletes that file (completion + retention days). */
  file_expires_at: number | null;
  /** When it did. */
  file_deleted_at: number | null;
  /**
   * 1 when an API request queued it (the per-app cap counts it); 0 when the server did (deliveries).
   * Defaults to 1 on insert.
   */
  capped: Generated<number>;
  /** JSON the running attempt writes now and then (its kind's fields), served while it runs. */
  progress: string | null;
  /** JSON the kind writes with its progress and reads back on the next attempt, to resume. */
  checkpoint: string | null;
}

/** An app's webhook settings from `PATCH /app`; an app without a row has none. */
export interface AppSettingsTable {
  app_id: number;
  /** Where every event of `webhook_events` is posted; '' for nowhere. */
  webhook_url: string;
  /** JSON array of event types; empty: every type. */
  webhook_events: string;
  updated_at: number;
}

/** One of an app's `event_hooks`, in the order `PATCH /app` listed them (`position`). */
export interface EventHooksTable {
  app_id: number;
  id: string;
  position: number;
  /** Always `webhook`: the only kind chatport sends. */
  hook_type: string;
  webhook_url: string;
  /** JSON array of event types; empty: every type. */
  event_types: string;
  enabled: number;
  timeout_ms: number;
  created_at: number;
  updated_at: number;
}

/** One event announced to one target, sent by the `webhook-delivery` task `queue_task_id`. */
export interface WebhookDeliveriesTable {
  /** Sent as `X-Webhook-Id`, the same on every attempt. */
  id: string;
  app_id: number;
  queue_task_id: string;
  /** The task the event is about (the export). */
  task_id: string;
  event_type: string;
  /** The event hook it was configured by; null for the app's `webhook_url`. */
  hook_id: string | null;
  webhook_url: string;
  timeout_ms: number;
  /** JSON of the event body, without the `url` signed afresh for every attempt. */
  event: string;
  created_at: number;
}

/** One attempt to send a delivery; `finished_at` and `outcome` stay null while it runs. */
export interface WebhookAttemptsTable {
  delivery_id: string;
  /** Sent as `X-Webhook-Attempt`, 1 first. */
  attempt: number;
  started_at: number;
  finished_at: number | null;
  /** delivered | failed | refused */
  outcome: string | null;
  response_status: number | null;
  error: string | null;
}

/**
 * Where a row stands in its channel's changes: SQLite, the change epoch it was written in (a number);
 * PostgreSQL, the writing transaction's id (xid8, read as a string). Compared only in SQL.
 */
export type ChangeMark = number | string;

export interface Database {
  apps: AppsTable;
  users: UsersTable;
  channels: ChannelsTable;
  members: MembersTable;
  channel_mutes: ChannelMutesTable;
  messages: MessagesTable;
  reactions: ReactionsTable;
  tombstones: TombstonesTable;
  tasks: TasksTable;
  app_settings: AppSettingsTable;
  event_hooks: EventHooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
}

export type AppRow = Selectable<AppsTable>;
export type UserRow = Selectable<UsersTable>;
export type ChannelRow = Selectable<ChannelsTable>;
export type MemberRow = Selectable<MembersTable>;
export type ChannelMuteRow = Selectable<ChannelMutesTable>;
export type MessageRow = Selectable<MessagesTable>;
export type ReactionRow = Selectable<ReactionsTable>;
export type TaskRow = Selectable<TasksTable>;
export type AppSettingsRow = Selectable<AppSettingsTable>;
export type EventHookRow = Selectable<EventHooksTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
export type WebhookAttemptRow = Selectable<WebhookAttemptsTable>;
export type NewMessageRow = Insertable<MessagesTable>;
export type NewChannelRow = Insertable<ChannelsTable>;
export type NewMemberRow = Insertable<MembersTable>;
export type MessageUpdate = Updateable<MessagesTable>;
export type { ColumnType };
