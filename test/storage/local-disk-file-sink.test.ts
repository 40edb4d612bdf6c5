import crypto from 'node:crypto';
import fs from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HashingFileSink } from '../../src/modules/storage/local-disk.file-sink.js';

describe('local disk file sink', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatport-sink-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function sinkOn(file: string, flushEveryBytes: number) {
    const handle = await open(file, 'w');
    const datasync = vi.spyOn(handle, 'datasync');
    const sync = vi.spyOn(handle, 'sync');
    const sink = new HashingFileSink(
      handle,
      { position: 0, hash: crypto.createHash('sha256') },
      flushEveryBytes,
    );
    return { handle, sink, datasync, sync };
  }

  it('flushes what it stored to the disk in the background as the file grows, then fsyncs at the end', async () => {
    const file = path.join(dir, 'out.jsonl');
    const { handle, sink, datasync, sync } = await sinkOn(file, 4096);
    // Answered at once, so when each flush starts does not depend on how busy the disk is.
    datasync.mockResolvedValue();
    const chunks = Array.from({ length: 20 }, (_, i) =>
      Buffer.from(`${String(i).padStart(4, '0')}`.repeat(256)),
    );
    for (const chunk of chunks) {
      sink.write(chunk);
      // Each write lands before the next, so every 4 KiB the flush threshold is crossed.
      await sink.settled();
    }
    sink.end();
    await finished(sink);
    await handle.close();
    // 20 KiB in 1 KiB chunks: a flush after every 4 KiB.
    expect(datasync).toHaveBeenCalledTimes(5);
    expect(sync).toHaveBeenCalledTimes(1);
    const content = Buffer.concat(chunks);
    expect(fs.readFileSync(file).equals(content)).toBe(true);
    expect(sink.digest()).toBe(crypto.createHash('sha256').update(content).digest('hex'));
  });

  it('fails the write when a background flush fails, rather than end as if durable', async () => {
    const file = path.join(dir, 'failing.jsonl');
    const { handle, sink, datasync, sync } = await sinkOn(file, 1024);
    datasync.mockRejectedValue(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    // The first write starts a flush that fails; the end, whether it comes before or after the
    // failure is known, must not finish the stream.
    sink.write(Buffer.alloc(2048, 'a'));
    sink.end(Buffer.alloc(10, 'b'));
    await expect(finished(sink)).rejects.toThrow(/EIO|i\/o/i);
    expect(datasync).toHaveBeenCalled();
    expect(sync).not.toHaveBeenCalled();
    await handle.close();
  });
});
