/**
 * Tables' columns with their SQL types, for writes that pass rows as one typed array a column
 * (PostgreSQL's `unnest`, the bulk writer): declared once for the tables more than one writer fills
 * whole, so that a column added to the table is added to each of them.
 */
import type { MessageRow } from './database.types.js';
import type { BulkColumnType } from './dialects/bulk-writer.js';

/** Every column of messages, in table order, with its SQL type. */
export const MESSAGE_COLUMN_TYPES = {
  app_id: 'integer',
  id: 'text',
  cid: 'text',
  user_id: 'text',
  type: 'text',
  text: 'text',
  html: 'text',
  parent_id: 'text',
  show_in_channel: 'integer',
  quoted_message_id: 'text',
  attachments: 'text',
  mentioned_users: 'text',
  custom: 'text',
  reply_count: 'integer',
  reaction_counts: 'text',
  reaction_scores: 'text',
  pinned: 'integer',
  silent: 'integer',
  created_at: 'bigint',
  updated_at: 'bigint',
  deleted_at: 'bigint',
} as const satisfies Record<keyof MessageRow, BulkColumnType>;
