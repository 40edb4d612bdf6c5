/**
 * Glossary of the stored model. Every row belongs to one app (`app_id`); every query filters on it.
 * - time columns (`*_at`, `run_after`): BIGINT microseconds since the epoch, UTC (see lib/time.ts).
 * - `custom` columns: a JSON object (text) of the fields the API carries flattened beside the known ones.
 * - flags: INTEGER 0 or 1, the same on both databases.
 * - cid: `<type>:<id>`, a channel's name within its app.
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
}

export interface MembersTable {
  app_id: number;
  cid: string;
  user_id: string;
  channel_role: string;
  created_at: number;
  updated_at: number;
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
}

export interface Database {
  apps: AppsTable;
  users: UsersTable;
  channels: ChannelsTable;
  members: MembersTable;
  messages: MessagesTable;
  reactions: ReactionsTable;
  tasks: TasksTable;
}

export type AppRow = Selectable<AppsTable>;
export type UserRow = Selectable<UsersTable>;
export type ChannelRow = Selectable<ChannelsTable>;
export type MemberRow = Selectable<MembersTable>;
export type MessageRow = Selectable<MessagesTable>;
export type ReactionRow = Selectable<ReactionsTable>;
export type TaskRow = Selectable<TasksTable>;
export type NewMessageRow = Insertable<MessagesTable>;
export type MessageUpdate = Updateable<MessagesTable>;
export type { ColumnType };
