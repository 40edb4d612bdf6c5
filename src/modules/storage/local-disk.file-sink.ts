import crypto from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

/**
 * Bytes the sink holds before it pushes back. Export writers emit one small chunk per message; with a
 * large buffer those pile up while the previous write is on its way to the disk and then go out as one
 * write, so a million-message export costs thousands of system calls, not a million.
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
    this.store(chunk).then(() => callback(), callback);
  }

  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    callback: (error?: Error | null) => void,
  ): void {
    this.store(Buffer.concat(chunks.map(({ chunk }) => chunk))).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    // Durable before commit renames it into place: after a crash the visible file is whole or absent.
    this.handle.sync().then(() => callback(), callback);
  }

  private async store(data: Buffer): Promise<void> {
    this.hash.update(data);
    let offset = 0;
    // A write may store fewer bytes than asked: go on until all are.
    while (offset < data.length) {
      const { bytesWritten } = await this.handle.write(data, offset, data.length - offset);
      offset += bytesWritten;
    }
    this.written += data.length;
  }
}
