import { ownValue } from '../../lib/json.js';

/** The HTTP semantics of serving a file (RFC 9110 ranges and validators), as pure functions. */

/** What a request's `Range` asks for, given the file's size. */
export type RangeRequest =
  { kind: 'whole' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

const SINGLE_RANGE = /^bytes=(\d*)-(\d*)$/i;

/**
 * Reads a `Range` header for a file of `size` bytes. One range is served as asked (`a-b`, `a-`, `-n`);
 * a header that is malformed or lists several ranges is ignored and the whole file is sent, as
 * RFC 9110 allows. A range that starts past the end is unsatisfiable (416).
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: 'whole' };
  const match = SINGLE_RANGE.exec(header.trim());
  if (!match) return { kind: 'whole' };
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return { kind: 'whole' };
  if (first === '') {
    const suffix = Number(last);
    if (!Number.isSafeInteger(suffix)) return { kind: 'whole' };
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? Number.MAX_SAFE_INTEGER : Number(last);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return { kind: 'whole' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
}

/** Whether an `If-None-Match` header matches the entity tag (weak comparison, `*` matches any). */
export function ifNoneMatchMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === opaque(etag));
}

/**
 * Whether a `Range` may be honoured: without `If-Range`, always; with one, only while it still names
 * the current entity tag (strong comparison). A date in `If-Range` is never trusted to match.
 */
export function ifRangeAllows(header: string | undefined, etag: string): boolean {
  return header === undefined || (!header.trim().startsWith('W/') && header.trim() === etag);
}

const CONTENT_TYPES: Record<string, string> = {
  json: 'application/json',
  jsonl: 'application/x-ndjson',
  ndjson: 'application/x-ndjson',
  gz: 'application/gzip',
  zip: 'application/zip',
  csv: 'text/csv',
};

/** The media type of a file by its extension; unknown ones are `application/octet-stream`. */
export function contentTypeOf(filename: string): string {
  const dot = filename.lastIndexOf('.');
  const extension = dot < 0 ? '' : filename.slice(dot + 1).toLowerCase();
  return ownValue(CONTENT_TYPES, extension) ?? 'application/octet-stream';
}

/** `attachment; filename="..."`. Storage keys only hold `[A-Za-z0-9._-]`, so quoting is enough. */
export function attachmentDisposition(filename: string): string {
  return `attachment; filename="${filename.replace(/["\\\r\n]/g, '_')}"`;
}
