import type { Writable } from 'node:stream';

/** Text gathered before one write to the storage stream: large writes, few syscalls. */
const FLUSH_BYTES = 1 << 20;

/**
 * Bytes the storage stream may hold before the export waits for it to drain: room for a page or two,
 * so the disk (or upload) works on one page while the database encodes the next.
 */
const IN_FLIGHT_BYTES = 4 << 20;

/**
 * Buffers an export's text into large chunks and writes them, and whole pages of bytes as they
 * come, with backpressure: a slow disk or upload slows the export down instead of letting memory grow.
 */
export class ExportSink {
  private parts: string[] = [];
  private pending = 0;
  /** Bytes handed to the stream so far. */
  bytes = 0;
  private failure: Error | undefined;

  constructor(private readonly stream: Writable) {
    // Writes do not wait for each other: a failed one is reported by the next write, or the commit.
    stream.on('error', (error) => {
      this.failure ??= error;
    });
  }

  write(text: string): Promise<void> | undefined {
    this.parts.push(text);
    this.pending += text.length;
    return this.pending >= FLUSH_BYTES ? this.flush() : undefined;
  }

  /** Writes bytes (an encoded page) after the text written before them. */
  async writeBytes(bytes: Buffer): Promise<void> {
    await this.flush();
    await this.push(bytes);
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const chunk = Buffer.from(this.parts.join(''), 'utf8');
    this.parts = [];
    this.pending = 0;
    await this.push(chunk);
  }

  private async push(chunk: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    this.bytes += chunk.length;
    this.stream.write(chunk);
    if (this.stream.writableLength > IN_FLIGHT_BYTES) await waitForDrain(this.stream);
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
