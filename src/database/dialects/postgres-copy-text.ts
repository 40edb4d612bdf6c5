/**
 * Rows in the text format of PostgreSQL's `COPY ... FROM STDIN`: one line a row, columns separated by
 * a tab, `\N` for NULL, and a backslash escaping the backslash, tab, newline and carriage return
 * inside a value (the documented "File Formats" of COPY). Numbers are written as SQL reads them.
 */

const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPED = /[\\\t\n\r]/g;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One value as a COPY text field. Text holding NUL is refused: PostgreSQL text cannot store it. */
export function copyField(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'string') {
    if (value.includes('\0'))
      throw new Error('a text value with a NUL character (PostgreSQL text cannot hold one)');
    return NEEDS_ESCAPE.test(value) ? value.replace(ESCAPED, (c) => ESCAPES[c]!) : value;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${value} cannot be written to a column`);
    return String(value);
  }
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return value ? 't' : 'f';
  throw new Error(`a ${typeof value} value cannot be written to a column`);
}

/**
 * Yields the COPY text of `rows` (their `columns`, in that order) in pieces of about `pieceLength`
 * characters, each a run of whole lines.
 */
export function* copyText(
  rows: ReadonlyArray<object>,
  columns: readonly string[],
  pieceLength = 1 << 16,
): Generator<string> {
  const last = columns.length - 1;
  let piece = '';
  for (const row of rows) {
    const record = row as Record<string, unknown>;
    for (let i = 0; i < last; i++) piece += `${copyField(record[columns[i]!])}\t`;
    piece += `${copyField(record[columns[last]!])}\n`;
    if (piece.length >= pieceLength) {
      yield piece;
      piece = '';
    }
  }
  if (piece !== '') yield piece;
}
