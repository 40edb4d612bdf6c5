/**
 * Raw bytes out of PostgreSQL: a read-only query run as `COPY (...) TO STDOUT (FORMAT binary)` through
 * pg-copy-streams, whose text values reach Node as the bytes the server holds (UTF-8), not decoded
 * into JavaScript strings and encoded back. What a long export reads page after page.
 */
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

/** COPY takes no bound parameters: each `$n` becomes the literal of its value. */
export function inlineParameters(text: string, parameters: readonly unknown[]): string {
  let out = '';
  let at = 0;
  while (at < text.length) {
    const c = text[at]!;
    if (c === "'" || c === '"') {
      // A quoted literal or identifier, its quote doubled inside: copied as it is.
      let end = at + 1;
      for (;;) {
        end = text.indexOf(c, end);
        if (end === -1) throw new Error('an unterminated quote in a query to inline');
        if (text[end + 1] === c) end += 2;
        else break;
      }
      out += text.slice(at, end + 1);
      at = end + 1;
    } else if (c === '$' && /[0-9]/.test(text[at + 1] ?? '')) {
      let end = at + 1;
      while (/[0-9]/.test(text[end] ?? '')) end++;
      const index = Number(text.slice(at + 1, end)) - 1;
      if (index < 0 || index >= parameters.length) throw new Error(`no value for parameter $${index + 1}`);
      out += literalOf(parameters[index]);
      at = end;
    } else {
      out += c;
      at++;
    }
  }
  return out;
}

function literalOf(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${value} has no SQL literal`);
    // In parentheses, so `- $1` never reads as the start of a comment.
    return value < 0 ? `(${value})` : String(value);
  }
  if (typeof value === 'string') {
    if (value.includes('\0')) throw new Error('a text value with a NUL character');
    // An escape string: the same meaning whatever standard_conforming_strings says.
    return `E'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
  }
  if (Buffer.isBuffer(value)) return `'\\x${value.toString('hex')}'::bytea`;
  throw new Error(`a ${typeof value} parameter cannot be inlined`);
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/**
 * Runs `query` (with its parameters) on `client` as a binary COPY and resolves with its rows, each
 * column the bytes of its binary form: for text the text itself, as the server encodes it (the caller
 * checks that it is UTF-8); null for NULL.
 */
export async function copyRows(
  client: pg.PoolClient,
  text: string,
  parameters: readonly unknown[],
): Promise<Array<Array<Buffer | null>>> {
  const stream = client.query(
    copyTo(`copy (${inlineParameters(text, parameters)}) to stdout (format binary)`),
  );
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  // One copy of the output into a buffer of its own, which the rows' values are slices of.
  const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  return parseBinaryCopy(data);
}

/** The rows of a `COPY ... (FORMAT binary)` output (PostgreSQL's documented file format). */
export function parseBinaryCopy(data: Buffer): Array<Array<Buffer | null>> {
  if (data.length < 19 || !data.subarray(0, 11).equals(SIGNATURE))
    throw new Error('not the output of a binary COPY');
  let at = 15;
  at += 4 + data.readUInt32BE(at);
  const rows: Array<Array<Buffer | null>> = [];
  for (;;) {
    const fields = data.readInt16BE(at);
    at += 2;
    if (fields === -1) return rows;
    const row: Array<Buffer | null> = [];
    for (let i = 0; i < fields; i++) {
      const length = data.readInt32BE(at);
      at += 4;
      if (length === -1) row.push(null);
      else {
        row.push(data.subarray(at, at + length));
        at += length;
      }
    }
    rows.push(row);
  }
}
