/**
 * The cursor of an incremental export: what a completed channel export's `result.cursor` holds and
 * `since_cursor` gives back. Opaque to clients; inside, the app it belongs to, the database kind whose
 * marks it holds, when it was taken, and the high-water mark of each channel
 * (export-sql.dialects.ts, ChangeMarkSql). Pure: encoding and decoding only.
 */
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { parseCid } from '../../lib/ids.js';

const PREFIX = 'cpx1.';

/** Decoded cursor; also how it travels in an export task's payload. */
export const ExportCursor = Type.Object({
  app: Type.Integer(),
  database: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')]),
  /** Microseconds: when its marks were taken (the horizon counts from it). */
  takenAt: Type.Integer(),
  /** The high-water mark of each channel, by cid. */
  marks: Type.Record(Type.String(), Type.String()),
});
export type ExportCursor = Static<typeof ExportCursor>;
const cursorCheck = Compile(ExportCursor);

export function encodeCursor(cursor: ExportCursor): string {
  const body = { a: cursor.app, d: cursor.database, t: cursor.takenAt, m: cursor.marks };
  return PREFIX + Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

/** The cursor a string encodes, or null when it is not one (of any app). */
export function decodeCursor(text: string): ExportCursor | null {
  if (!text.startsWith(PREFIX)) return null;
  const encoded = text.slice(PREFIX.length);
  if (!/^[A-Za-z0-9_-]*$/.test(encoded)) return null;
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const { a, d, t, m } = body as Record<string, unknown>;
  const cursor = { app: a, database: d, takenAt: t, marks: m };
  if (!cursorCheck.Check(cursor)) return null;
  if (!Number.isSafeInteger(cursor.app) || !Number.isSafeInteger(cursor.takenAt)) return null;
  for (const cid of Object.keys(cursor.marks)) if (!parseCid(cid)) return null;
  return cursor;
}

/** What a cursor is checked against when an export names it. */
export interface CursorCheck {
  appId: number;
  database: ExportCursor['database'];
  /** Whether a mark is one this database can use. */
  isMark(text: string): boolean;
  nowMicros: number;
  /** How long changes are kept findable after a cursor was taken (the tombstones' horizon). */
  horizonMicros: number;
}

/**
 * Why a decoded cursor cannot be used here, or null when it can: another app's, another database
 * kind's, a mark that is not this database's, or older than the horizon, past which deletes may have
 * been forgotten: an export from it would silently miss them, so it is refused instead.
 */
export function cursorProblem(cursor: ExportCursor, check: CursorCheck): string | null {
  if (cursor.app !== check.appId) return 'belongs to another app';
  if (cursor.database !== check.database) return 'was issued by a server on another kind of database';
  if (!Object.values(cursor.marks).every((mark) => check.isMark(mark)))
    return 'is not a cursor from a completed channel export';
  if (cursor.takenAt < check.nowMicros - check.horizonMicros) {
    return (
      `is older than ${Math.round(check.horizonMicros / 86_400_000_000)} days, the time deletes are ` +
      'remembered for; take a full export (without since_cursor) and continue from its cursor'
    );
  }
  return null;
}
