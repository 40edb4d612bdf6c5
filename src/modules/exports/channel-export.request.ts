import { Type, type Static } from 'typebox';
import { inputError } from '../../lib/errors.js';
import { parseCid } from '../../lib/ids.js';
import { isPlainObject } from '../../lib/json.js';
import { parseTimestamp } from '../../lib/time.js';
import { decodeCursor, ExportCursor } from './export-cursor.js';

/** Most channels one export request may name, as Stream allows. */
export const MAX_EXPORT_CHANNELS = 25;

const ExportVersion = Type.Union([Type.Literal('v1'), Type.Literal('v2')]);
export type ExportVersion = Static<typeof ExportVersion>;

/** Microseconds since the epoch, or null for no bound. */
const MicrosOrNull = Type.Union([Type.Integer(), Type.Null()]);

const ChannelExportSelection = Type.Object({
  cid: Type.String(),
  type: Type.String(),
  id: Type.String(),
  /** Inclusive: messages created at or after it. */
  messagesSince: MicrosOrNull,
  /** Exclusive: messages created before it. */
  messagesUntil: MicrosOrNull,
});
export type ChannelExportSelection = Static<typeof ChannelExportSelection>;

/**
 * The immutable, validated export request: what parseChannelExportRequest returns and what an
 * `export-channels` task's payload holds, checked against this one declaration (channel-export.task.ts).
 */
export const ChannelExportRequest = Type.Object({
  channels: Type.Array(ChannelExportSelection, { minItems: 1, maxItems: MAX_EXPORT_CHANNELS }),
  version: ExportVersion,
  includeTruncatedMessages: Type.Boolean(),
  includeSoftDeletedChannels: Type.Boolean(),
  exportUsers: Type.Boolean(),
  clearDeletedMessageText: Type.Boolean(),
  /**
   * `since_cursor`: an incremental export of what changed after the cursor's marks. Checked against
   * the app and database by the route (cursorProblem).
   */
  sinceCursor: Type.Optional(ExportCursor),
});
export type ChannelExportRequest = Static<typeof ChannelExportRequest>;

function optionalBoolean(body: Record<string, unknown>, key: string): boolean {
  const value = body[key];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw inputError(key, 'must be a boolean');
  return value;
}

function optionalTime(entry: Record<string, unknown>, key: string, field: string): number | null {
  const value = entry[key];
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw inputError(`${field}.${key}`, 'must be an RFC 3339 timestamp or null');
  const micros = parseTimestamp(value);
  if (micros === null) throw inputError(`${field}.${key}`, `"${value}" is not an RFC 3339 timestamp`);
  return micros;
}

/**
 * Validates `POST /export_channels`. Pure: it names every problem by field (`channels.3.messages_since`)
 * and never touches the database; whether the channels exist is checked by the caller.
 */
export function parseChannelExportRequest(body: unknown): ChannelExportRequest {
  if (!isPlainObject(body)) throw inputError('body', 'must be a JSON object');
  const channels = body.channels;
  if (!Array.isArray(channels) || channels.length === 0)
    throw inputError('channels', 'must list at least one channel');
  if (channels.length > MAX_EXPORT_CHANNELS) {
    throw inputError('channels', `can list at most ${MAX_EXPORT_CHANNELS} channels, got ${channels.length}`);
  }
  const seen = new Set<string>();
  const selections = channels.map((entry: unknown, index): ChannelExportSelection => {
    const field = `channels.${index}`;
    if (!isPlainObject(entry)) throw inputError(field, 'must be {type, id} or {cid}');
    let cid: string;
    if (typeof entry.cid === 'string' && entry.cid !== '') cid = entry.cid;
    else if (typeof entry.type === 'string' && typeof entry.id === 'string')
      cid = `${entry.type}:${entry.id}`;
    else throw inputError(field, 'must name a channel by {type, id} or {cid}');
    const parsed = parseCid(cid);
    if (!parsed) throw inputError(field, `"${cid}" is not a valid channel`);
    if (
      typeof entry.cid === 'string' &&
      typeof entry.type === 'string' &&
      entry.cid !== `${entry.type}:${entry.id}`
    ) {
      throw inputError(field, 'cid does not match type and id');
    }
    if (seen.has(cid)) throw inputError(field, `${cid} is listed twice`);
    seen.add(cid);
    const messagesSince = optionalTime(entry, 'messages_since', field);
    const messagesUntil = optionalTime(entry, 'messages_until', field);
    if (messagesSince !== null && messagesUntil !== null && messagesSince > messagesUntil) {
      throw inputError(`${field}.messages_since`, 'is after messages_until');
    }
    return { cid, type: parsed.type, id: parsed.id, messagesSince, messagesUntil };
  });
  const sinceCursor = optionalCursor(body);
  if (sinceCursor) {
    selections.forEach((selection, index) => {
      for (const [key, value] of [
        ['messages_since', selection.messagesSince],
        ['messages_until', selection.messagesUntil],
      ] as const) {
        if (value !== null)
          throw inputError(`channels.${index}.${key}`, 'cannot be combined with since_cursor');
      }
    });
  }
  const version = body.version ?? 'v1';
  if (version !== 'v1' && version !== 'v2') throw inputError('version', 'must be v1 or v2');
  return {
    channels: selections,
    version,
    includeTruncatedMessages: optionalBoolean(body, 'include_truncated_messages'),
    includeSoftDeletedChannels: optionalBoolean(body, 'include_soft_deleted_channels'),
    exportUsers: optionalBoolean(body, 'export_users'),
    clearDeletedMessageText: optionalBoolean(body, 'clear_deleted_message_text'),
    ...(sinceCursor ? { sinceCursor } : {}),
  };
}

function optionalCursor(body: Record<string, unknown>): ExportCursor | undefined {
  const value = body.since_cursor;
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string')
    throw inputError('since_cursor', 'must be the cursor string of a completed export');
  const cursor = decodeCursor(value);
  if (!cursor) throw inputError('since_cursor', 'is not a cursor from a completed channel export');
  return cursor;
}
