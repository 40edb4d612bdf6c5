import type { Writable } from 'node:stream';

/** Bytes gathered before one write to the storage stream: large writes, few syscalls. */
const FLUSH_BYTES = 1 << 20;

/**
 * Buffers an export's text into large chunks and writes them with backpressure: a slow disk or
 * upload slows the export down instead of letting memory grow.
 */
export class ExportSink {
  private parts: string[] = [];
  private pending = 0;
  /** Bytes handed to the stream so far. */
  bytes = 0;

  constructor(private readonly stream: Writable) {}

  write(text: string): Promise<void> | undefined {
    this.parts.push(text);
    this.pending += text.length;
    return this.pending >= FLUSH_BYTES ? this.flush() : undefined;
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const chunk = Buffer.from(this.parts.join(''), 'utf8');
    this.parts = [];
    this.pending = 0;
    this.bytes += chunk.length;
    if (!this.stream.write(chunk)) await waitForDrain(this.stream);
  }
}

function waitForDrain(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      stream.off('error', onError);
      resolve();
    };
    const onError = (error: Error) => {
      stream.off('drain', onDrain);
      reject(error);
    };
    stream.once('drain', onDrain);
    stream.once('error', onError);
  });
}
