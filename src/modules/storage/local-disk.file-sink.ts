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
  private readonly hash: crypto.Hash;
  /** Where the next byte goes: the content's length so far. */
  private written: number;

  /**
   * `resume`: the file already holds `position` bytes of the content, which `hash` has been fed; the
   * next byte written goes after them. Default: an empty file.
   */
  constructor(
    private readonly handle: FileHandle,
    resume: { position: number; hash: crypto.Hash } = { position: 0, hash: crypto.createHash('sha256') },
  ) {
    super({ highWaterMark: WRITE_BUFFER_BYTES });
    this.written = resume.position;
    this.hash = resume.hash;
  }

  /** Bytes of the content stored so far (with those the file held when resumed). */
  get bytesStored(): number {
    return this.written;
  }

  /** Resolves once every chunk written before the call is in the file (not yet fsynced). */
  settled(): Promise<void> {
    return new Promise((resolve, reject) =>
      this.write(Buffer.alloc(0), (error) => (error ? reject(error) : resolve())),
    );
  }

  /** Hex SHA-256 of everything written; only once the stream has finished. */
  digest(): string {
    if (!this.writableFinished) throw new Error('the sink has not finished');
    return this.hash.copy().digest('hex');
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.storeThen([chunk], callback);
  }

  // One writev, not a concatenation: export pages are megabytes each, and a copy of them would double
  // the memory a large export passes through (freed only at V8's next collection).
  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    callback: (error?: Error | null) => void,
  ): void {
    this.storeThen(
      chunks.map(({ chunk }) => chunk),
      callback,
    );
  }

  /**
   * Stores `chunks`, then counts them stored and tells the stream in one step: at any moment
   * `bytesStored + writableLength` is every byte written to the sink (what a savepoint covers).
   */
  private storeThen(chunks: Buffer[], callback: (error?: Error | null) => void): void {
    this.store(chunks).then(
      (size) => {
        this.written += size;
        callback();
      },
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

  /** Writes `chunks` after the bytes stored so far; resolves with their size. */
  private async store(chunks: Buffer[]): Promise<number> {
    let size = 0;
    for (const chunk of chunks) {
      this.hash.update(chunk);
      size += chunk.length;
    }
    // Positioned writes: a resumed file is written after the bytes it already held.
    let stored = chunks.length === 1 ? 0 : (await this.handle.writev(chunks, this.written)).bytesWritten;
    let at = this.written + stored;
    // A write may store fewer bytes than asked: go on until all are.
    for (const chunk of chunks) {
      let offset = Math.min(stored, chunk.length);
      stored -= offset;
      while (offset < chunk.length) {
        const { bytesWritten } = await this.handle.write(chunk, offset, chunk.length - offset, at);
        offset += bytesWritten;
        at += bytesWritten;
      }
    }
    return size;
  }
}
