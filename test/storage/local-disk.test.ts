import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLocalDiskDriver } from '../../src/modules/storage/local-disk.driver.js';
import { createStorageDriver } from '../../src/modules/storage/storage.drivers.js';
import { exportFileKey } from '../../src/modules/storage/storage.keys.js';
import type { StorageDriver } from '../../src/modules/storage/storage.types.js';
import {
  describeStorageDriverContract,
  readObject,
  writeChunk,
  writeObject,
} from './storage-driver.suite.js';

function temporaryRoot(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'chatport-storage-'));
}

describeStorageDriverContract('local disk', async () => {
  const root = temporaryRoot();
  return {
    driver: createLocalDiskDriver({ root: path.join(root, 'files') }),
    cleanup: async () => fs.rmSync(root, { recursive: true, force: true }),
  };
});

describe('local disk driver', () => {
  let root: string;
  let driver: StorageDriver;
  beforeEach(() => {
    root = temporaryRoot();
    driver = createLocalDiskDriver({ root });
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('keeps each object at <root>/<key>, readable by the owner only', async () => {
    await writeObject(driver, 'exports/7/task/channels.json', '[]');
    const file = path.join(root, 'exports', '7', 'task', 'channels.json');
    expect(fs.readFileSync(file, 'utf8')).toBe('[]');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('uses the quoted SHA-256 of the content as the ETag', async () => {
    const content = 'the content decides the tag\n'.repeat(5000);
    const committed = await writeObject(driver, 'hashed.jsonl', content);
    const expected = `"${crypto.createHash('sha256').update(content).digest('hex')}"`;
    expect(committed.etag).toBe(expected);
    expect((await driver.stat('hashed.jsonl'))!.etag).toBe(expected);
    // The same content written again has the same tag.
    expect((await writeObject(driver, 'copy.jsonl', content)).etag).toBe(expected);
  });

  it('writes through to a hidden temporary in the same folder while the write is open', async () => {
    const write = await driver.openWrite('exports/1/t/messages.jsonl');
    const folder = path.join(root, 'exports', '1', 't');
    let written = 0;
    for (let i = 0; i < 8; i++) {
      const chunk = Buffer.alloc(512 * 1024, i);
      await writeChunk(write, chunk);
      written += chunk.length;
      const names = fs.readdirSync(folder);
      expect(names).toHaveLength(1);
      expect(names[0]).toMatch(/^\.messages\.jsonl\.[0-9a-f]{16}\.tmp$/);
      // Every byte the stream took is already in the file: nothing waits in memory for the commit.
      expect(fs.statSync(path.join(folder, names[0]!)).size).toBe(written);
    }
    await write.commit();
    expect(fs.readdirSync(folder).sort()).toEqual(['.messages.jsonl.meta', 'messages.jsonl']);
  });

  it('stores chunks queued behind a write in order, each once, in the file and its ETag', async () => {
    const write = await driver.openWrite('queued.jsonl');
    const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(1000 + 97 * i, 97 + (i % 26)));
    // Written without waiting: all but the first wait in the stream's queue and go out together.
    for (const chunk of chunks) write.stream.write(chunk);
    const committed = await write.commit();
    const content = Buffer.concat(chunks);
    expect(await readObject(driver, 'queued.jsonl')).toEqual(content);
    expect(committed.etag).toBe(`"${crypto.createHash('sha256').update(content).digest('hex')}"`);
  });

  it('falls back to a size-and-mtime ETag for a file changed behind its back', async () => {
    const committed = await writeObject(driver, 'restored.json', '{"version":1}');
    const file = path.join(root, 'restored.json');
    fs.writeFileSync(file, '{"version":2}');
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const stored = await driver.stat('restored.json');
    expect(stored!.etag).not.toBe(committed.etag);
    expect(stored!.etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect((await readObject(driver, 'restored.json')).toString()).toBe('{"version":2}');
  });

  it('removes folders a delete leaves empty, and no others', async () => {
    await writeObject(driver, 'exports/1/a/file.json', '{}');
    await writeObject(driver, 'exports/1/b/file.json', '{}');
    await driver.delete('exports/1/a/file.json');
    expect(fs.existsSync(path.join(root, 'exports', '1', 'a'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'exports', '1', 'b', 'file.json'))).toBe(true);
    await driver.delete('exports/1/b/file.json');
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('sweeps a content record whose file is gone', async () => {
    await writeObject(driver, 'orphan.json', '{}');
    fs.unlinkSync(path.join(root, 'orphan.json'));
    const future = Date.now() * 1000 + 60_000_000;
    const leftovers = await driver.listTemporary(future);
    expect(leftovers).toEqual([
      { key: 'orphan.json', name: '.orphan.json.meta', modifiedAt: expect.any(Number) },
    ]);
    expect(await driver.removeTemporary(leftovers[0]!)).toBe(true);
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('names export files exports/<appId>/<taskId>/<filename>', () => {
    expect(exportFileKey({ appId: 3, taskId: '0b7c-42', filename: 'channels.json' })).toBe(
      'exports/3/0b7c-42/channels.json',
    );
    expect(() => exportFileKey({ appId: 3, taskId: '../x', filename: 'channels.json' })).toThrow();
  });
});

describe('storage driver selection', () => {
  it('CHATPORT_STORAGE defaults to local, under <dataDir>/files', async () => {
    const dataDir = temporaryRoot();
    try {
      const config = loadConfig({ CHATPORT_DATA_DIR: dataDir });
      expect(config.storageDriver).toBe('local');
      const driver = await createStorageDriver(config, pino({ level: 'silent' }));
      expect(driver.name).toBe('local');
      await writeObject(driver, 'exports/1/t/file.json', '{}');
      expect(fs.existsSync(path.join(dataDir, 'files', 'exports', '1', 't', 'file.json'))).toBe(true);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown driver name, listing the known ones', async () => {
    const logger = pino({ level: 'silent' });
    const config = loadConfig({ CHATPORT_STORAGE: 'floppy', CHATPORT_DATA_DIR: '/tmp/unused' });
    await expect(createStorageDriver(config, logger)).rejects.toThrow(
      'CHATPORT_STORAGE must be one of local, s3://bucket/prefix, got "floppy"',
    );
    for (const name of ['toString', 'ftp://host/x', 's3']) {
      const odd = loadConfig({ CHATPORT_STORAGE: name, CHATPORT_DATA_DIR: '/tmp/unused' });
      await expect(createStorageDriver(odd, logger)).rejects.toThrow('CHATPORT_STORAGE');
    }
  });

  it('removes only its own hidden temporaries under the root', async () => {
    const root = temporaryRoot();
    try {
      const driver = createLocalDiskDriver({ root });
      const outside = { key: 'x', name: '../etc/passwd', modifiedAt: 0 };
      await expect(driver.removeTemporary(outside)).rejects.toThrow('not a temporary');
      await expect(
        driver.removeTemporary({ key: 'x', name: 'visible.json', modifiedAt: 0 }),
      ).rejects.toThrow();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
