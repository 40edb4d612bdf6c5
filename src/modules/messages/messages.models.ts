import crypto from 'node:crypto';
import { inputError } from '../../lib/errors.js';
import { assertId } from '../../lib/ids.js';
import { isPlainObject, splitCustom, type JsonObject } from '../../lib/json.js';
import { messageShape } from './messages.shape.js';

/** Message types a client may send; `reply` is set for thread replies, `deleted` by deletion. */
const SENDABLE_TYPES = new Set(['regular', 'system']);

export interface MessageInput {
  id: string | undefined;
  text: string;
  type: string | undefined;
  userId: string | undefined;
  parentId: string | undefined;
  showInChannel: boolean;
  quotedMessageId: string | undefined;
  attachments: JsonObject[];
  mentionedUsers: string[];
  pinned: boolean;
  silent: boolean;
  custom: JsonObject;
}

function optionalString(input: JsonObject, key: string, field: string): string | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw inputError(`${field}.${key}`, 'must be a string');
  return value;
}

function optionalBoolean(input: JsonObject, key: string, field: string): boolean {
  const value = input[key];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw inputError(`${field}.${key}`, 'must be a boolean');
  return value;
}

/** The id of the acting user: `user_id`, or `user.id`. */
export function userIdOf(input: JsonObject, field: string): string | undefined {
  const direct = optionalString(input, 'user_id', field);
  if (direct !== undefined) return direct;
  if (isPlainObject(input.user)) {
    if (typeof input.user.id !== 'string') throw inputError(`${field}.user.id`, 'must be a string');
    return input.user.id;
  }
  return undefined;
}

/** Normalises a message as it arrives in send or update. */
export function messageFromInput(input: JsonObject, field = 'message'): MessageInput {
  const id = optionalString(input, 'id', field);
  if (id !== undefined) assertId(`${field}.id`, id);
  const type = optionalString(input, 'type', field);
  if (type !== undefined && !SENDABLE_TYPES.has(type)) {
    throw inputError(`${field}.type`, 'must be regular or system');
  }
  const attachments = input.attachments ?? [];
  if (!Array.isArray(attachments) || !attachments.every(isPlainObject)) {
    throw inputError(`${field}.attachments`, 'must be a list of objects');
  }
  const mentioned = input.mentioned_users ?? [];
  if (!Array.isArray(mentioned)) throw inputError(`${field}.mentioned_users`, 'must be a list of user ids');
  const mentionedUsers = mentioned.map((m: unknown) => {
    const mentionedId = typeof m === 'string' ? m : isPlainObject(m) ? m.id : undefined;
    if (typeof mentionedId !== 'string')
      throw inputError(`${field}.mentioned_users`, 'must be a list of user ids');
    return mentionedId;
  });
  const text = optionalString(input, 'text', field) ?? '';
  if (text.length > 20_000) throw inputError(`${field}.text`, 'is longer than 20000 characters');
  const { custom } = splitCustom(input, messageShape.known);
  if (isPlainObject(input.custom)) Object.assign(custom, input.custom);
  return {
    id,
    text,
    type,
    userId: userIdOf(input, field),
    parentId: optionalString(input, 'parent_id', field),
    showInChannel: optionalBoolean(input, 'show_in_channel', field),
    quotedMessageId: optionalString(input, 'quoted_message_id', field),
    attachments: attachments as JsonObject[],
    mentionedUsers: [...new Set(mentionedUsers)],
    pinned: optionalBoolean(input, 'pinned', field),
    silent: optionalBoolean(input, 'silent', field),
    custom,
  };
}

export function newMessageId(): string {
  return crypto.randomUUID();
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Stream renders markdown; chatport renders the text as one escaped paragraph (docs/data-model.md). */
export function renderHtml(text: string): string {
  if (text === '') return '';
  return `<p>${text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!)}</p>\n`;
}
