import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ExportSink } from '../../src/modules/exports/export-sink.js';

/** A storage stream whose writes complete only when the test says so. */
function slowStream(highWaterMark: number) {
  const received: Buffer[] = [];
  const waiting: Array<() => void> = [];
  const stream = new Writable({
    highWaterMark,
    write(chunk: Buffer, _encoding, callback) {
      received.push(chunk);
      waiting.push(() => callback());
    },
  });
  return { stream, received, waiting };
}

const settled = async (promise: Promise<unknown>) => {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
};

describe('ExportSink', () => {
  it('waits for the storage to drain once a write passes its highWaterMark, and not before', async () => {
    const { stream, received, waiting } = slowStream(1024);
    const sink = new ExportSink(stream);
    // Under the mark: the write is handed over and the export goes on.
    expect(await settled(sink.writeBytes(Buffer.alloc(100, 1)))).toBe(true);
    // Past it: the export waits until the storage has taken what it holds.
    const big = sink.writeBytes(Buffer.alloc(2048, 2));
    expect(await settled(big)).toBe(false);
    while (waiting.length > 0) waiting.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
    while (waiting.length > 0) waiting.shift()!();
    await big;
    expect(received.map((chunk) => chunk.length)).toEqual([100, 2048]);
    expect(sink.bytes).toBe(2148);
  });

  it('writes buffered text before the bytes that follow it, and reports a failed write', async () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString('utf8'));
        callback(chunks.length === 3 ? new Error('disk full') : null);
      },
    });
    const sink = new ExportSink(stream);
    await sink.write('[');
    await sink.writeBytes(Buffer.from('{"a":1}'));
    await sink.write(']');
    // The failing write is the one being flushed: the flush fails with it, and so does every later write.
    await expect(sink.flush()).rejects.toThrow('disk full');
    expect(chunks).toEqual(['[', '{"a":1}', ']']);
    await expect(sink.writeBytes(Buffer.from('more'))).rejects.toThrow('disk full');
  });

  it('fails rather than waits forever when the storage stream is closed under it', async () => {
    const { stream } = slowStream(16);
    const sink = new ExportSink(stream);
    const pending = sink.writeBytes(Buffer.alloc(64));
    stream.destroy();
    await expect(pending).rejects.toThrow('closed');
    await expect(sink.writeBytes(Buffer.alloc(64))).rejects.toThrow();
  });
});
