/**
 * Splits an import's input into lines without holding more than one chunk of it: each step gives
 * the complete lines of the chunk just read (fewer steps than a line at a time), keeping the unfinished
 * tail for the next. `\r\n` endings and a leading byte-order mark are accepted.
 */
import type { Readable } from 'node:stream';

/**
 * Bytes, or text from a stream (a file, stdin, a request body), may be cut anywhere. Text items of any
 * other iterable are one or more whole lines each (a trailing newline is optional), as a generator of
 * lines would produce.
 */
export type ImportInput = Readable | AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;

export function isStream(input: ImportInput): input is Readable {
  return typeof (input as Readable).pipe === 'function';
}

function stripCarriageReturn(line: string): string {
  return line.length > 0 && line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line;
}

const NEWLINE = 10;
const utf8 = new TextDecoder('utf-8');

/**
 * A line splitter's state: plain data (no decoder object), so that a splitter can be handed to
 * another thread halfway through its input.
 */
export interface LineSplitterState {
  /** Whether text items that are not from a stream are whole lines. */
  itemsAreWholeLines: boolean;
  /** Bytes after the last newline byte so far: a line, perhaps a character, not finished yet. */
  pendingBytes: Uint8Array | null;
  /** Text after the last newline so far. */
  pendingText: string;
  /** No line was given out yet (a byte-order mark may lead the first). */
  first: boolean;
}

/**
 * Cuts items into lines. Bytes are cut at newline bytes before they are decoded: a newline byte never
 * occurs inside a multi-byte UTF-8 character, so no character is ever cut in two.
 */
export class LineSplitter {
  private readonly state: LineSplitterState;

  constructor(state: LineSplitterState | { itemsAreWholeLines: boolean }) {
    this.state = {
      pendingBytes: null,
      pendingText: '',
      first: true,
      ...state,
    };
  }

  /** Plain data to resume from (`new LineSplitter(state)`), here or on another thread. */
  snapshot(): LineSplitterState {
    return { ...this.state };
  }

  /** The complete lines the item finishes, in order. */
  push(item: string | Uint8Array): string[] {
    const state = this.state;
    let text: string;
    if (typeof item === 'string') {
      text = this.takePendingBytes() + item;
    } else {
      const end = item.lastIndexOf(NEWLINE);
      if (end === -1) {
        state.pendingBytes = state.pendingBytes ? concat(state.pendingBytes, item) : Uint8Array.from(item);
        return [];
      }
      const head = state.pendingBytes
        ? concat(state.pendingBytes, item.subarray(0, end + 1))
        : item.subarray(0, end + 1);
      state.pendingBytes = end + 1 < item.length ? Uint8Array.from(item.subarray(end + 1)) : null;
      text = utf8.decode(head);
    }
    const lines: string[] = [];
    let start = 0;
    text = state.pendingText + text;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      lines.push(stripCarriageReturn(text.slice(start, end)));
      start = end + 1;
    }
    state.pendingText = start === 0 ? text : text.slice(start);
    if (state.itemsAreWholeLines && typeof item === 'string' && state.pendingText !== '') {
      lines.push(stripCarriageReturn(state.pendingText));
      state.pendingText = '';
    }
    return this.withoutByteOrderMark(lines);
  }

  /** The last line, when the input does not end with a newline. */
  end(): string[] {
    const rest = this.state.pendingText + this.takePendingBytes();
    this.state.pendingText = '';
    return rest === '' ? [] : this.withoutByteOrderMark([stripCarriageReturn(rest)]);
  }

  private takePendingBytes(): string {
    const bytes = this.state.pendingBytes;
    this.state.pendingBytes = null;
    return bytes ? utf8.decode(bytes) : '';
  }

  private withoutByteOrderMark(lines: string[]): string[] {
    if (lines.length > 0 && this.state.first) {
      this.state.first = false;
      if (lines[0]!.charCodeAt(0) === 0xfeff) lines[0] = lines[0]!.slice(1);
    }
    return lines;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a, 0);
  joined.set(b, a.length);
  return joined;
}

/**
 * Yields arrays of lines, in order. `onRead` is told the size of each item as it arrives (bytes for
 * byte chunks, characters for text), for progress reporting.
 */
export async function* readLineChunks(
  input: ImportInput,
  onRead: (size: number) => void = () => {},
): AsyncGenerator<string[]> {
  const splitter = new LineSplitter({ itemsAreWholeLines: !isStream(input) });
  for await (const item of input as AsyncIterable<string | Uint8Array>) {
    onRead(item.length);
    const lines = splitter.push(item);
    if (lines.length > 0) yield lines;
  }
  const last = splitter.end();
  if (last.length > 0) yield last;
}
