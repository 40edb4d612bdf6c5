/**
 * Splits an import's input into lines without holding more than one chunk of it: each step yields
 * the complete lines of the chunk just read (fewer awaits than a line at a time), keeping the unfinished
 * tail for the next. `\r\n` endings and a leading byte-order mark are accepted.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';

/**
 * Bytes, or text from a stream (a file, stdin, a request body), may be cut anywhere. Text items of any
 * other iterable are one or more whole lines each (a trailing newline is optional), as a generator of
 * lines would produce.
 */
export type ImportInput = Readable | AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;

function isStream(input: ImportInput): input is Readable {
  return typeof (input as Readable).pipe === 'function';
}

function stripCarriageReturn(line: string): string {
  return line.length > 0 && line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line;
}

/** The complete lines of `text` before its last newline, and what follows it. */
function splitComplete(text: string): { lines: string[]; rest: string } {
  const lines: string[] = [];
  let start = 0;
  for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
    lines.push(stripCarriageReturn(text.slice(start, end)));
    start = end + 1;
  }
  return { lines, rest: start === 0 ? text : text.slice(start) };
}

/**
 * Yields arrays of lines, in order. `onRead` is told the size of each item as it arrives (bytes for
 * byte chunks, characters for text), for progress reporting.
 */
export async function* readLineChunks(
  input: ImportInput,
  onRead: (size: number) => void = () => {},
): AsyncGenerator<string[]> {
  const itemsAreWholeLines = !isStream(input);
  // A chunk may end inside a multi-byte character: the decoder holds such bytes back for the next.
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let first = true;
  for await (const item of input as AsyncIterable<string | Uint8Array>) {
    onRead(item.length);
    const { lines, rest } = splitComplete(pending + (typeof item === 'string' ? item : decoder.write(item)));
    pending = rest;
    if (itemsAreWholeLines && typeof item === 'string' && pending !== '') {
      lines.push(stripCarriageReturn(pending));
      pending = '';
    }
    if (lines.length === 0) continue;
    if (first) {
      first = false;
      if (lines[0]!.charCodeAt(0) === 0xfeff) lines[0] = lines[0]!.slice(1);
    }
    yield lines;
  }
  pending += decoder.end();
  if (pending !== '')
    yield [stripCarriageReturn(first && pending.charCodeAt(0) === 0xfeff ? pending.slice(1) : pending)];
}
