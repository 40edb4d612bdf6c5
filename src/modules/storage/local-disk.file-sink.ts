import crypto from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { classifyLocalDiskError } from './local-disk.errors.js';

/**
 * Bytes the sink holds before it pushes back. Chunks written meanwhile pile up while the previous write
 * is on its way to the disk and then go out in one system call.
 */
export const WRITE_BUFFER_BYTES = 1024 * 1024;

/**
 * A writable over an open file that hashes the content (SHA-256) as it passes, so the content's
 * ETag is known at commit without reading the file again, and fsyncs the file when the stream ends.
 * It never owns the file handle: the write that opened it closes it.
 */
export class HashingFileSink extends Writable {
  private readonly hash = crypto.createHash('sha256');
  private written = 0;

  constructor(private readonly handle: FileHandle) {
    super({ highWaterMark: WRITE_BUFFER_BYTES });
  }

  /** Bytes stored so far. */
  get bytesStored(): number {
    return this.written;
  }

  /** Hex SHA-256 of everything written; only once the stream has finished. */
  digest(): string {
    if (!this.writableFinished) throw new Error('the sink has not finished');
    return this.hash.copy().digest('hex');
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.store([chunk]).then(
      () => callback(),
      (error) => callback(classifyLocalDiskError(error) as Error),
    );
  }

  // One writev, not a concatenation: export pages are megabytes each, and a copy of them would double
  // the memory a large export passes through (freed only at V8's next collection).
  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    callback: (error?: Error | null) => void,
  ): void {
    this.store(chunks.map(({ chunk }) => chunk)).then(
      () => callback(),
      (error) => callback(classifyLocalDiskError(error) as Error),
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    // Durable before commit renames it into place: after a crash the visible file is whole or absent.
    this.handle.sync().then(
      () => callback(),
      (error) => callback(classifyLocalDiskError(error) as Error),
    );
  }

  private async store(chunks: Buffer[]): Promise<void> {
    let size = 0;
    for (const chunk of chunks) {
      this.hash.update(chunk);
      size += chunk.length;
    }
    let stored = chunks.length === 1 ? 0 : (await this.handle.writev(chunks)).bytesWritten;
    // A write may store fewer bytes than asked: go on until all are.
    for (const chunk of chunks) {
      let offset = Math.min(stored, chunk.length);
      stored -= offset;
      while (offset < chunk.length) {
        const { bytesWritten } = await this.handle.write(chunk, offset, chunk.length - offset);
        offset += bytesWritten;
      }
    }
    this.written += size;
  }
}
