import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  InvalidStorageKeyError,
  StorageObjectNotFoundError,
} from '../../src/modules/storage/storage.errors.js';
import type { ByteRange, PendingWrite, StorageDriver } from '../../src/modules/storage/storage.types.js';

/** A driver to test and how to remove whatever it stored. */
export interface DriverUnderTest {
  driver: StorageDriver;
  cleanup(): Promise<void>;
}

/** What a test server lacks, each with the reason shown in the skipped test's name. */
export interface ContractGaps {
  /** Two commits of one key racing each other may interleave (the store writes in place). */
  concurrentWritesInterleave?: string;
  /** `bytes=0-0` reads the whole object instead of its first byte. */
  rangeEndingAtZero?: string;
  /** Signatures are not checked (only the key id and the expiry): forged links are served. */
  signaturesUnchecked?: string;
}

export async function writeObject(driver: StorageDriver, key: string, content: string | Buffer) {
  const write = await driver.openWrite(key);
  try {
    await pipeline(Readable.from([Buffer.from(content)]), write.stream);
    return await write.commit();
  } finally {
    await write.abort();
  }
}

export async function readObject(driver: StorageDriver, key: string, range?: ByteRange): Promise<Buffer> {
  return buffer(await driver.openRead(key, range));
}

/** Writes a chunk and waits until the driver has taken it (not merely buffered it in the stream). */
export function writeChunk(write: PendingWrite, chunk: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) =>
    write.stream.write(chunk, (error) => (error ? reject(error) : resolve())),
  );
}

/** Thresholds for the temporary sweep: everything now existing is older than `future`, nothing than `past`. */
const future = () => Date.now() * 1000 + 60_000_000;
const past = () => Date.now() * 1000 - 3_600_000_000;

/**
 * The contract every storage driver keeps. Each driver's own test file calls this with a factory that
 * makes a fresh, empty driver per test.
 */
export function describeStorageDriverContract(
  name: string,
  createDriver: () => Promise<DriverUnderTest>,
  gaps: ContractGaps = {},
) {
  describe(`storage driver contract: ${name}`, () => {
    let subject: DriverUnderTest;
    let driver: StorageDriver;
    beforeEach(async () => {
      subject = await createDriver();
      driver = subject.driver;
    });
    afterEach(() => subject.cleanup());

    it('reads back exactly what a committed write stored, and stat agrees with the commit', async () => {
      const content = Buffer.from('{"type":"user","data":{"id":"ü1"}}\n'.repeat(1000));
      const committed = await writeObject(driver, 'exports/1/task-1/channels.jsonl', content);
      expect(committed.size).toBe(content.length);
      expect(committed.etag).toMatch(/^"[^"]+"$/);
      const stored = await driver.stat('exports/1/task-1/channels.jsonl');
      expect(stored).toMatchObject({ size: content.length, etag: committed.etag });
      expect(Number.isSafeInteger(stored!.modifiedAt)).toBe(true);
      expect((await readObject(driver, 'exports/1/task-1/channels.jsonl')).equals(content)).toBe(true);
    });

    it('stores an empty object', async () => {
      const committed = await writeObject(driver, 'empty.json', '');
      expect(committed.size).toBe(0);
      expect(await driver.stat('empty.json')).toMatchObject({ size: 0, etag: committed.etag });
      expect((await readObject(driver, 'empty.json')).length).toBe(0);
    });

    it('commit ends a stream the caller left open', async () => {
      const write = await driver.openWrite('open-ended.json');
      await writeChunk(write, '[1,2,3]');
      expect(await write.commit()).toMatchObject({ size: 7 });
      expect((await readObject(driver, 'open-ended.json')).toString()).toBe('[1,2,3]');
    });

    it('keeps an uncommitted write invisible to stat and openRead', async () => {
      const write = await driver.openWrite('pending/file.json');
      await writeChunk(write, 'x'.repeat(100_000));
      expect(await driver.stat('pending/file.json')).toBeUndefined();
      await expect(driver.openRead('pending/file.json')).rejects.toBeInstanceOf(StorageObjectNotFoundError);
      await write.abort();
    });

    it('abort leaves nothing behind, not even a temporary', async () => {
      const write = await driver.openWrite('aborted/file.json');
      await writeChunk(write, 'partial');
      await write.abort();
      expect(await driver.stat('aborted/file.json')).toBeUndefined();
      expect(await driver.listTemporary(future())).toEqual([]);
      await expect(write.commit()).rejects.toThrow();
    });

    it('abort after a commit keeps the committed object', async () => {
      const write = await driver.openWrite('kept.json');
      write.stream.end('{}');
      await write.commit();
      await write.abort();
      expect((await readObject(driver, 'kept.json')).toString()).toBe('{}');
      await expect(write.commit()).rejects.toThrow();
    });

    it('a write whose stream failed cannot commit and leaves nothing', async () => {
      const write = await driver.openWrite('failed.json');
      write.stream.on('error', () => undefined);
      await writeChunk(write, 'half a file');
      write.stream.destroy(new Error('the exporter failed'));
      await expect(write.commit()).rejects.toThrow();
      expect(await driver.stat('failed.json')).toBeUndefined();
      expect(await driver.listTemporary(future())).toEqual([]);
    });

    it('replaces an object only when the new write commits', async () => {
      const first = await writeObject(driver, 'replaced.json', 'first version');
      const write = await driver.openWrite('replaced.json');
      await writeChunk(write, 'second');
      expect((await readObject(driver, 'replaced.json')).toString()).toBe('first version');
      expect((await driver.stat('replaced.json'))!.etag).toBe(first.etag);
      write.stream.end(' version, longer');
      const second = await write.commit();
      expect(second.etag).not.toBe(first.etag);
      expect((await readObject(driver, 'replaced.json')).toString()).toBe('second version, longer');
      expect(await driver.stat('replaced.json')).toMatchObject({ size: 22, etag: second.etag });
    });

    it.skipIf(gaps.concurrentWritesInterleave)(
      `two writes racing for one key leave one of them whole, never a mix${
        gaps.concurrentWritesInterleave ? ` (skipped: ${gaps.concurrentWritesInterleave})` : ''
      }`,
      async () => {
        const [a, b] = await Promise.all([driver.openWrite('raced.json'), driver.openWrite('raced.json')]);
        await writeChunk(a, 'a'.repeat(300_000));
        await writeChunk(b, 'b'.repeat(200_000));
        await Promise.all([a.commit(), b.commit()]);
        const content = (await readObject(driver, 'raced.json')).toString();
        expect([`${'a'.repeat(300_000)}`, `${'b'.repeat(200_000)}`]).toContain(content);
        expect((await driver.stat('raced.json'))!.size).toBe(content.length);
      },
    );

    it('reads inclusive byte ranges, clamped to the end of the object', async () => {
      const content = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
      await writeObject(driver, 'ranges.bin', content);
      // A test server may get this one wrong (ContractGaps.rangeEndingAtZero).
      if (!gaps.rangeEndingAtZero) {
        const first = await readObject(driver, 'ranges.bin', { start: 0, end: 0 });
        expect(first.equals(content.subarray(0, 1))).toBe(true);
      }
      expect(
        (await readObject(driver, 'ranges.bin', { start: 10, end: 19 })).equals(content.subarray(10, 20)),
      ).toBe(true);
      expect(
        (await readObject(driver, 'ranges.bin', { start: 990, end: 5000 })).equals(content.subarray(990)),
      ).toBe(true);
      expect((await readObject(driver, 'ranges.bin', { start: 1000, end: 2000 })).length).toBe(0);
      await expect(driver.openRead('ranges.bin', { start: 5, end: 4 })).rejects.toThrow(RangeError);
      await expect(driver.openRead('ranges.bin', { start: -1, end: 4 })).rejects.toThrow(RangeError);
    });

    it('deletes an object; deleting nothing answers false', async () => {
      await writeObject(driver, 'exports/1/t/deleted.json', '{}');
      await writeObject(driver, 'exports/1/t2/kept.json', '[]');
      expect(await driver.delete('exports/1/t/deleted.json')).toBe(true);
      expect(await driver.stat('exports/1/t/deleted.json')).toBeUndefined();
      await expect(driver.openRead('exports/1/t/deleted.json')).rejects.toBeInstanceOf(
        StorageObjectNotFoundError,
      );
      expect(await driver.delete('exports/1/t/deleted.json')).toBe(false);
      expect(await driver.delete('exports/1')).toBe(false);
      expect((await readObject(driver, 'exports/1/t2/kept.json')).toString()).toBe('[]');
      // The same key can be written again after a delete.
      await writeObject(driver, 'exports/1/t/deleted.json', 'again');
      expect((await readObject(driver, 'exports/1/t/deleted.json')).toString()).toBe('again');
    });

    it('answers a key with no object as absent', async () => {
      expect(await driver.stat('never/written.json')).toBeUndefined();
      await expect(driver.openRead('never/written.json')).rejects.toBeInstanceOf(StorageObjectNotFoundError);
      await writeObject(driver, 'folder/inside.json', '{}');
      // A prefix of other keys is not an object.
      expect(await driver.stat('folder')).toBeUndefined();
      await expect(driver.openRead('folder')).rejects.toBeInstanceOf(StorageObjectNotFoundError);
    });

    it.each([
      ['empty', ''],
      ['absolute', '/etc/passwd'],
      ['climbing out', '../outside.json'],
      ['climbing out midway', 'exports/../../outside.json'],
      ['a dot segment', 'exports/./file.json'],
      ['an empty segment', 'exports//file.json'],
      ['a trailing slash', 'exports/'],
      ['a backslash', 'exports\\file.json'],
      ['a hidden name', 'exports/.file.json.meta'],
      ['a NUL byte', 'exports/file\u0000.json'],
      ['a space', 'exports/my file.json'],
      ['an overlong segment', `${'a'.repeat(201)}.json`],
    ])('refuses a key with %s', async (_why, key) => {
      await expect(driver.openWrite(key)).rejects.toBeInstanceOf(InvalidStorageKeyError);
      await expect(driver.stat(key)).rejects.toBeInstanceOf(InvalidStorageKeyError);
      await expect(driver.openRead(key)).rejects.toBeInstanceOf(InvalidStorageKeyError);
      await expect(driver.delete(key)).rejects.toBeInstanceOf(InvalidStorageKeyError);
    });

    it('sweeps the temporaries of dead writes, and only those older than the threshold', async () => {
      await writeObject(driver, 'exports/1/done/file.json', 'committed');
      const dead = await driver.openWrite('exports/1/dead/file.json');
      // More than S3's smallest part (5 MiB), so a driver that holds a small first part in memory has
      // started its temporary too.
      await writeChunk(dead, Buffer.alloc(6 * 1024 * 1024, 'x'));
      expect(await driver.listTemporary(past())).toEqual([]);
      const leftovers = await driver.listTemporary(future());
      expect(leftovers).toHaveLength(1);
      expect(leftovers[0]).toMatchObject({ key: 'exports/1/dead/file.json', name: expect.any(String) });
      expect(leftovers[0]!.modifiedAt).toBeLessThan(future());
      expect(await driver.listTemporary()).toEqual(leftovers);
      expect(await driver.removeTemporary(leftovers[0]!)).toBe(true);
      expect(await driver.removeTemporary(leftovers[0]!)).toBe(false);
      expect(await driver.listTemporary(future())).toEqual([]);
      expect((await readObject(driver, 'exports/1/done/file.json')).toString()).toBe('committed');
      // The swept write can no longer publish anything.
      await expect(dead.commit()).rejects.toThrow();
      expect(await driver.stat('exports/1/dead/file.json')).toBeUndefined();
      await dead.abort();
    });

    it('lists committed objects under a prefix, and nothing uncommitted', async () => {
      await writeObject(driver, 'exports/1/a/1/one.json', '1');
      await writeObject(driver, 'exports/1/a/2/two.json', '22');
      await writeObject(driver, 'exports/2/b/1/three.json', '333');
      await writeObject(driver, 'other/four.json', '4444');
      const pending = await driver.openWrite('exports/1/c/1/pending.json');
      await writeChunk(pending, 'not yet');
      const list = async (prefix: string) => {
        const found = [];
        for await (const object of driver.listObjects(prefix)) found.push(object);
        return found.sort((a, b) => (a.key < b.key ? -1 : 1));
      };
      expect((await list('exports/1/')).map(({ key, size }) => ({ key, size }))).toEqual([
        { key: 'exports/1/a/1/one.json', size: 1 },
        { key: 'exports/1/a/2/two.json', size: 2 },
      ]);
      expect((await list('exports/')).map((object) => object.key)).toEqual([
        'exports/1/a/1/one.json',
        'exports/1/a/2/two.json',
        'exports/2/b/1/three.json',
      ]);
      expect((await list('')).length).toBe(4);
      expect(await list('nothing/')).toEqual([]);
      const [first] = await list('exports/1/a/1/');
      expect(Number.isSafeInteger(first!.modifiedAt)).toBe(true);
      await pending.abort();
    });

    it('resumes a write from its savepoint: the object and its ETag are those of one uninterrupted write', async () => {
      const key = 'exports/1/resumed/1/file.jsonl';
      const content = crypto.randomBytes(12 * 1024 * 1024);
      const write = await driver.openWrite(key);
      await writeChunk(write, content.subarray(0, 11 * 1024 * 1024));
      // S3 keeps only uploaded parts: wait until at least one is.
      let savepoint = await write.savepoint();
      for (let tries = 0; savepoint.bytes === 0 && tries < 500; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        savepoint = await write.savepoint();
      }
      expect(savepoint.bytes).toBeGreaterThan(0);
      expect(savepoint.bytes).toBeLessThanOrEqual(11 * 1024 * 1024);
      // Bytes after the savepoint (a process dying mid-write) are not kept by the resumed write.
      await writeChunk(write, Buffer.alloc(4096, 7));
      await write.detach();
      await write.abort();
      expect((await driver.listTemporary()).map((temporary) => temporary.key)).toEqual([key]);

      const stored = JSON.parse(JSON.stringify(savepoint)) as typeof savepoint;
      const resumed = (await driver.resumeWrite(key, stored))!;
      expect(resumed).toBeDefined();
      await pipeline(Readable.from([content.subarray(savepoint.bytes)]), resumed.stream);
      const committed = await resumed.commit();
      expect(committed.size).toBe(content.length);
      expect((await readObject(driver, key)).equals(content)).toBe(true);
      const fresh = await writeObject(driver, 'exports/1/fresh/1/file.jsonl', content);
      expect(committed.etag).toBe(fresh.etag);
      expect((await driver.stat(key))?.etag).toBe(fresh.etag);
      // Its temporary is gone with the commit: nothing is left to resume.
      expect(await driver.resumeWrite(key, stored)).toBeUndefined();
      expect(await driver.listTemporary()).toEqual([]);
    });

    it('resumes nothing from a savepoint whose temporary was removed', async () => {
      const key = 'exports/1/swept/1/file.jsonl';
      const write = await driver.openWrite(key);
      await writeChunk(write, crypto.randomBytes(6 * 1024 * 1024));
      let savepoint = await write.savepoint();
      for (let tries = 0; savepoint.bytes === 0 && tries < 500; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        savepoint = await write.savepoint();
      }
      await write.detach();
      for (const temporary of await driver.listTemporary()) await driver.removeTemporary(temporary);
      expect(await driver.resumeWrite(key, savepoint)).toBeUndefined();
    });

    it('streams a large write through with backpressure and stores every byte', async () => {
      const chunkSize = 64 * 1024;
      const chunks = 640; // 40 MiB
      const write = await driver.openWrite('exports/1/large/messages.jsonl');
      const produced = crypto.createHash('sha256');
      let maxBuffered = 0;
      async function* content() {
        for (let i = 0; i < chunks; i++) {
          maxBuffered = Math.max(maxBuffered, write.stream.writableLength);
          const chunk = Buffer.alloc(chunkSize, i % 256);
          chunk.writeUInt32BE(i, 0);
          produced.update(chunk);
          yield chunk;
        }
      }
      await pipeline(Readable.from(content()), write.stream);
      const committed = await write.commit();
      expect(committed.size).toBe(chunkSize * chunks);
      // Memory stays bounded by the stream's own buffer: the producer waits whenever it is full.
      expect(maxBuffered).toBeLessThanOrEqual(write.stream.writableHighWaterMark + chunkSize);
      expect(write.stream.writableHighWaterMark).toBeLessThanOrEqual(8 * 1024 * 1024);
      expect(await driver.stat('exports/1/large/messages.jsonl')).toMatchObject({ size: chunkSize * chunks });
      const readBack = crypto.createHash('sha256');
      let readBytes = 0;
      for await (const chunk of await driver.openRead('exports/1/large/messages.jsonl')) {
        readBack.update(chunk as Buffer);
        readBytes += (chunk as Buffer).length;
      }
      expect(readBytes).toBe(chunkSize * chunks);
      expect(readBack.digest('hex')).toBe(produced.digest('hex'));
    });

    it('presigns links that read the object with the asked headers, and stop at their expiry', async (test) => {
      if (!driver.presignRead) {
        test.skip();
        return;
      }
      const content = '{"type":"channel"}\n'.repeat(100);
      await writeObject(driver, 'exports/1/t/1/chatport-channels-t.jsonl', content);
      const options = {
        expiresInSeconds: 3600,
        contentDisposition: 'attachment; filename="chatport-channels-t.jsonl"',
        contentType: 'application/x-ndjson',
      };
      const url = await driver.presignRead('exports/1/t/1/chatport-channels-t.jsonl', {
        ...options,
        signedAtMicros: Date.now() * 1000,
      });
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-disposition')).toBe(options.contentDisposition);
      expect(response.headers.get('content-type')).toBe(options.contentType);
      expect(await response.text()).toBe(content);
      // Signed two hours ago for one hour: over.
      const expired = await driver.presignRead('exports/1/t/1/chatport-channels-t.jsonl', {
        ...options,
        signedAtMicros: (Date.now() - 2 * 3600_000) * 1000,
      });
      expect((await fetch(expired)).status).toBe(403);
      // A forged signature, or a link whose signed headers were changed, is refused.
      if (!gaps.signaturesUnchecked) {
        const forged = new URL(url);
        const signature = forged.searchParams.get('X-Amz-Signature')!;
        forged.searchParams.set(
          'X-Amz-Signature',
          signature.replace(/.$/, (c) => (c === '0' ? '1' : '0')),
        );
        expect((await fetch(forged)).status).toBe(403);
        const renamed = new URL(url);
        renamed.searchParams.set('response-content-disposition', 'attachment; filename="other.jsonl"');
        expect((await fetch(renamed)).status).toBe(403);
      }
    });
  });
}
