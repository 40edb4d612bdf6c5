/**
 * Parsing beside writing. better-sqlite3 writes on the calling thread, so reading and checking lines
 * there (a third of an import's time) would wait for every write and every write for it. The parser
 * (import-parser.ts) runs on a thread of its own instead, a batch or two ahead of the writer; the
 * importer's thread only reads the input, hands its chunks over, and writes what comes back.
 *
 * Starting a thread costs tens of milliseconds (hundreds when it must compile TypeScript), more than
 * a small import takes. So in the default mode, `auto`, the importer's thread parses by itself, starts
 * the thread once the input proves longer than one batch, goes on parsing meanwhile, and hands the
 * parser's state over at the first chunk boundary after the thread is ready.
 *
 * The thread is this same module, loaded again in a worker: from the compiled bundle its chunk, from
 * the TypeScript sources (tests, benchmarks) this file through tsx's loader.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { isStream, type ImportInput } from './import-line-reader.js';
import { ImportParser, type ImportParserState, type ParsedBatch } from './import-parser.js';

/**
 * Where lines are parsed: `auto` (default) on the importer's thread until the input is longer than a
 * batch, then on a parser thread; `thread` on a parser thread from the first line; `inline` on the
 * importer's thread only.
 */
export type ParserMode = 'auto' | 'thread' | 'inline';

/** Input handed to the thread and not parsed yet, at most: enough to keep it busy through a write. */
const INPUT_AHEAD_BYTES = 8 << 20;

/** Input gathered into one message to the thread, at least (the last one may be shorter). */
const MESSAGE_SIZE = 64 << 10;

const ROLE = 'chatport import parser';

type ToThread =
  | { kind: 'resume'; state: ImportParserState }
  | { kind: 'input'; items: Array<string | Uint8Array>; size: number }
  | { kind: 'end' };

type FromThread =
  | { kind: 'ready' }
  | { kind: 'parsed'; size: number; batches: ParsedBatch[] }
  | { kind: 'crashed'; message: string; stack?: string };

// ---- The thread's side.

function serveParser(port: NonNullable<typeof parentPort>): void {
  let parser: ImportParser | undefined;
  const send = (message: FromThread) => port.postMessage(message);
  port.on('message', (message: ToThread) => {
    try {
      if (message.kind === 'resume') parser = new ImportParser(message.state);
      else if (message.kind === 'input') {
        const batches: ParsedBatch[] = [];
        for (const item of message.items) batches.push(...parser!.push(item));
        send({ kind: 'parsed', size: message.size, batches });
      } else send({ kind: 'parsed', size: 0, batches: parser!.end() });
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      send({ kind: 'crashed', message: failure.message, stack: failure.stack });
    }
  });
  send({ kind: 'ready' });
}

if (!isMainThread && (workerData as { role?: unknown } | null)?.role === ROLE) serveParser(parentPort!);

// ---- The importer's side.

/** A worker loads this module (and, from sources, the TypeScript loader first). */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.loader) (await import(workerData.loader)).register();
  await import(workerData.module);
})().catch((error) => setImmediate(() => { throw error; }));
`;

/** tsx's ESM loader API, for a thread that must load this module from its TypeScript source. */
function typescriptLoader(): string {
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  const exports = (
    JSON.parse(fs.readFileSync(manifest, 'utf8')) as {
      exports: Record<string, { import: { default: string } }>;
    }
  ).exports;
  return pathToFileURL(path.join(path.dirname(manifest), exports['./esm/api']!.import.default)).href;
}

class ParserThread {
  private readonly worker: Worker;
  private readonly parsed: ParsedBatch[] = [];
  private wake: (() => void) | undefined;
  ready = false;
  failure: Error | undefined;
  /** Input sent and not parsed yet. */
  unparsed = 0;

  constructor() {
    const self = import.meta.url;
    this.worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: { role: ROLE, module: self, loader: self.endsWith('.ts') ? typescriptLoader() : undefined },
    });
    this.worker.on('message', (message: FromThread) => {
      if (message.kind === 'ready') this.ready = true;
      else if (message.kind === 'parsed') {
        this.unparsed -= message.size;
        for (const batch of message.batches) this.parsed.push({ ...batch, onThread: true });
      } else this.failure = Object.assign(new Error(message.message), { stack: message.stack });
      this.notify();
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`the import parser thread exited (code ${code})`)));
  }

  fail(error: Error): void {
    this.failure ??= error;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Resolves when the thread next reports anything (or fails). */
  changed(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve) => (this.wake = resolve));
  }

  send(message: ToThread): void {
    if (message.kind === 'input') this.unparsed += message.size;
    this.worker.postMessage(message);
  }

  take(): ParsedBatch | undefined {
    if (this.failure) throw this.failure;
    return this.parsed.shift();
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

export interface ParseOptions {
  appId: number;
  batchSize: number;
  mode: ParserMode;
  /** Told the size of each input item as it is read. */
  onRead: (size: number) => void;
}

/**
 * The input's batches, in order, ending with one marked `last` (the end of the input or its first bad
 * line). Parsed on a thread as `mode` says; the thread is stopped when the caller stops reading.
 */
export async function* parseInput(input: ImportInput, options: ParseOptions): AsyncGenerator<ParsedBatch> {
  const { appId, batchSize, mode, onRead } = options;
  let parser: ImportParser | undefined = new ImportParser({
    appId,
    batchSize,
    itemsAreWholeLines: !isStream(input),
  });
  let thread: ParserThread | undefined;
  let gathered: Array<string | Uint8Array> = [];
  let gatheredSize = 0;
  /** In `auto` mode a thread that fails to start is given up, and parsing stays here. */
  let threadFailedToStart = false;
  try {
    if (mode === 'thread') {
      thread = new ParserThread();
      while (!thread.ready) await thread.changed();
      thread.send({ kind: 'resume', state: parser.snapshot() });
      parser = undefined;
    }
    // Leaving this loop early (a bad line, or the caller stopping) closes the input.
    for await (const item of input as AsyncIterable<string | Uint8Array>) {
      onRead(item.length);
      if (parser) {
        for (const parsed of parser.push(item)) {
          yield parsed;
          if (parsed.last) return;
          if (mode === 'auto' && !threadFailedToStart) thread ??= new ParserThread();
        }
        if (thread?.failure && !thread.ready) {
          threadFailedToStart = true;
          await thread.close();
          thread = undefined;
        } else if (thread?.ready) {
          thread.send({ kind: 'resume', state: parser.snapshot() });
          parser = undefined;
        }
        continue;
      }
      // Small items travel together: a message costs more than a few kilobytes of copying.
      gathered.push(ownCopy(item));
      gatheredSize += item.length;
      if (gatheredSize < MESSAGE_SIZE) continue;
      const parserThread = thread!;
      for (;;) {
        let parsed: ParsedBatch | undefined;
        while ((parsed = parserThread.take())) {
          yield parsed;
          if (parsed.last) return;
        }
        if (parserThread.unparsed < INPUT_AHEAD_BYTES) break;
        await parserThread.changed();
      }
      parserThread.send({ kind: 'input', items: gathered, size: gatheredSize });
      gathered = [];
      gatheredSize = 0;
    }
    if (parser) {
      yield* parser.end();
      return;
    }
    const parserThread = thread!;
    if (gathered.length > 0) parserThread.send({ kind: 'input', items: gathered, size: gatheredSize });
    parserThread.send({ kind: 'end' });
    for (;;) {
      let parsed: ParsedBatch | undefined;
      while ((parsed = parserThread.take())) {
        yield parsed;
        if (parsed.last) return;
      }
      await parserThread.changed();
    }
  } finally {
    await thread?.close();
  }
}

/**
 * Bytes that are a view of a larger buffer, copied: a message would carry the whole buffer (a
 * stream's chunks are often slices of one).
 */
function ownCopy(item: string | Uint8Array): string | Uint8Array {
  return typeof item === 'string' || item.byteLength === item.buffer.byteLength ? item : new Uint8Array(item);
}
