/**
 * What the importer writes to each table: the columns with their SQL types and the primary key the
 * upsert replaces on. Derived columns are left out (channels' member_count, last_message_at) or written
 * only for new rows (messages' reply and reaction counters): the importer recomputes them.
 */
import { MESSAGE_COLUMN_TYPES } from '../../database/column-types.js';

export const userTable = {
  table: 'users',
  columns: {
    app_id: 'integer',
    id: 'text',
    role: 'text',
    custom: 'text',
    teams: 'text',
    banned: 'integer',
    created_at: 'bigint',
    updated_at: 'bigint',
    deleted_at: 'bigint',
    deactivated_at: 'bigint',
  },
  key: ['app_id', 'id'],
} as const;

export const channelTable = {
  table: 'channels',
  columns: {
    app_id: 'integer',
    cid: 'text',
    type: 'text',
    id: 'text',
    created_by_id: 'text',
    custom: 'text',
    frozen: 'integer',
    disabled: 'integer',
    created_at: 'bigint',
    updated_at: 'bigint',
    deleted_at: 'bigint',
    truncated_at: 'bigint',
    truncated_by_id: 'text',
  },
  key: ['app_id', 'cid'],
} as const;

export const memberTable = {
  table: 'members',
  columns: {
    app_id: 'integer',
    cid: 'text',
    user_id: 'text',
    channel_role: 'text',
    created_at: 'bigint',
    updated_at: 'bigint',
    custom: 'text',
    invited: 'integer',
    invite_accepted_at: 'bigint',
    invite_rejected_at: 'bigint',
    pinned_at: 'bigint',
    archived_at: 'bigint',
    hidden: 'integer',
    hide_messages_before: 'bigint',
  },
  key: ['app_id', 'cid', 'user_id'],
} as const;

export const channelMuteTable = {
  table: 'channel_mutes',
  columns: {
    app_id: 'integer',
    user_id: 'text',
    cid: 'text',
    created_at: 'bigint',
    updated_at: 'bigint',
    expires_at: 'bigint',
  },
  key: ['app_id', 'user_id', 'cid'],
} as const;

export const messageTable = {
  table: 'messages',
  columns: MESSAGE_COLUMN_TYPES,
  key: ['app_id', 'id'],
  keepOnConflict: ['reply_count', 'reaction_counts', 'reaction_scores'],
} as const;

export const reactionTable = {
  table: 'reactions',
  columns: {
    app_id: 'integer',
    message_id: 'text',
    user_id: 'text',
    type: 'text',
    score: 'integer',
    custom: 'text',
    created_at: 'bigint',
    updated_at: 'bigint',
  },
  key: ['app_id', 'message_id', 'user_id', 'type'],
} as const;

/** The reaction summary of a message, set by the counters step. */
export const reactionSummaryTable = {
  table: 'messages',
  columns: { app_id: 'integer', id: 'text', reaction_counts: 'text', reaction_scores: 'text' },
  key: ['app_id', 'id'],
} as const;

/** A channel's last_message_at, moved forward by the counters step. */
export const lastMessageAtTable = {
  table: 'channels',
  columns: { app_id: 'integer', cid: 'text', last_message_at: 'bigint' },
  key: ['app_id', 'cid'],
} as const;
