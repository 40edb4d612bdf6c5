import crypto from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createS3Driver } from '../../src/modules/storage/s3.driver.js';
import { PermanentStorageError } from '../../src/modules/storage/storage.errors.js';
import { createStorageDriver, parseS3Location } from '../../src/modules/storage/storage.drivers.js';
import type { StorageDriver } from '../../src/modules/storage/storage.types.js';
import { S3RVER_CREDENTIALS, startS3TestServer, type S3TestServer } from '../helpers/s3-server.js';
import {
  describeStorageDriverContract,
  readObject,
  writeChunk,
  writeObject,
} from './storage-driver.suite.js';

let s3: S3TestServer;
beforeAll(async () => {
  s3 = await startS3TestServer();
});
afterAll(() => s3.close());

/** A driver on the test server, under a prefix of its own; parts of 5 MiB so tests stay small. */
function driverOn(server: S3TestServer, warnings: string[] = []): StorageDriver {
  return createS3Driver({
    bucket: server.bucket,
    prefix: `test-${crypto.randomBytes(4).toString('hex')}/`,
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    sizing: { partSize: 5 * 1024 * 1024, concurrency: 2 },
    warn: (message) => warnings.push(message),
  });
}

async function removeAll(driver: StorageDriver): Promise<void> {
  for await (const object of driver.listObjects('')) await driver.delete(object.key);
  for (const temporary of await driver.listTemporary()) await driver.removeTemporary(temporary);
  await driver.close?.();
}

describeStorageDriverContract(
  'S3 (s3rver on loopback)',
  async () => {
    const driver = driverOn(s3);
    return { driver, cleanup: () => removeAll(driver) };
  },
  {
    concurrentWritesInterleave: 's3rver writes objects in place; S3 makes each upload atomic',
    rangeEndingAtZero: 's3rver reads bytes=0-0 as the whole object',
    signaturesUnchecked: 's3rver checks a SigV4 request’s access key and expiry, not its signature',
  },
);

describe('S3 driver', () => {
  it('is chosen by CHATPORT_STORAGE=s3://bucket/prefix, with the endpoint and credentials around it', async () => {
    const config = loadConfig({ CHATPORT_DATA_DIR: '/tmp/unused', ...s3.env('chosen/by-url') });
    expect(config.s3ForcePathStyle).toBe(true);
    const driver = await createStorageDriver(config, pino({ level: 'silent' }));
    try {
      expect(driver.name).toBe('s3');
      await writeObject(driver, 'exports/1/t/1/file.json', '{"chosen":true}');
      // The prefix is a folder of the bucket: another driver without it sees the object beneath it.
      const bare = driverOn(s3);
      const found = [];
      for await (const object of createS3Driver({
        ...parseS3Location(`s3://${s3.bucket}`),
        endpoint: s3.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: S3RVER_CREDENTIALS,
        sizing: { partSize: 5 * 1024 * 1024, concurrency: 1 },
        warn: () => undefined,
      }).listObjects('chosen/')) {
        found.push(object.key);
      }
      expect(found).toEqual(['chosen/by-url/exports/1/t/1/file.json']);
      await bare.close?.();
      await driver.delete('exports/1/t/1/file.json');
    } finally {
      await driver.close?.();
    }
  });

  it('reads s3://bucket and s3://bucket/some/prefix, and refuses anything else', () => {
    expect(parseS3Location('s3://exports')).toEqual({ bucket: 'exports', prefix: '' });
    expect(parseS3Location('s3://exports/')).toEqual({ bucket: 'exports', prefix: '' });
    expect(parseS3Location('s3://exports/chat/prod/')).toEqual({ bucket: 'exports', prefix: 'chat/prod/' });
    for (const bad of ['s3://', 's3:///prefix', 's3://b/../up', 's3://bucket/a//b', 's3://bucket?x=1']) {
      expect(() => parseS3Location(bad), bad).toThrow();
    }
  });

  it('refuses link lifetimes S3 cannot sign (over 7 days) at start-up', async () => {
    const config = loadConfig({
      ...s3.env(),
      CHATPORT_LINK_TTL_HOURS: '200',
      CHATPORT_DATA_DIR: '/tmp/unused',
    });
    await expect(createStorageDriver(config, pino({ level: 'silent' }))).rejects.toThrow(
      'CHATPORT_LINK_TTL_HOURS must be at most 168',
    );
  });

  it('uploads a file of several parts and publishes it only when the upload completes', async () => {
    const driver = driverOn(s3);
    try {
      const write = await driver.openWrite('exports/1/big/1/file.jsonl');
      const parts = [
        Buffer.alloc(5 * 1024 * 1024, 'a'),
        Buffer.alloc(5 * 1024 * 1024, 'b'),
        Buffer.from('end'),
      ];
      for (const part of parts) await writeChunk(write, part);
      // Two parts are uploaded, the upload exists, and nothing is visible yet.
      expect((await driver.listTemporary()).map((t) => t.key)).toEqual(['exports/1/big/1/file.jsonl']);
      expect(await driver.stat('exports/1/big/1/file.jsonl')).toBeUndefined();
      const committed = await write.commit();
      expect(committed.size).toBe(10 * 1024 * 1024 + 3);
      expect((await readObject(driver, 'exports/1/big/1/file.jsonl')).equals(Buffer.concat(parts))).toBe(
        true,
      );
      expect(await driver.listTemporary()).toEqual([]);
    } finally {
      await removeAll(driver);
    }
  });

  it('treats a CompleteMultipartUpload answered 200 with an error body as a failure, and leaves nothing', async () => {
    const driver = driverOn(s3);
    try {
      const write = await driver.openWrite('exports/1/t/1/file.jsonl');
      await writeChunk(write, Buffer.alloc(6 * 1024 * 1024, 'x'));
      s3.faults.completeAnswersErrorIn200 = true;
      await expect(write.commit()).rejects.toMatchObject({ name: 'InternalError' });
      s3.faults.completeAnswersErrorIn200 = false;
      expect(await driver.stat('exports/1/t/1/file.jsonl')).toBeUndefined();
      // The failed commit aborted its upload.
      expect(await driver.listTemporary()).toEqual([]);
    } finally {
      s3.faults.completeAnswersErrorIn200 = false;
      await removeAll(driver);
    }
  });

  it.each([
    ['XMinioStorageFull', 507, 'storage_full', /export storage is full: the store has no space left/],
    ['QuotaExceeded', 403, 'storage_full', /storage quota is exceeded/],
    ['AccessDenied', 403, 'storage_refused', /refused the upload: access denied \(AccessDenied\)/],
  ])('classifies %s as a permanent %s error naming the cause', async (code, status, failure, message) => {
    const driver = driverOn(s3);
    s3.faults.refuseUploads = { code, status };
    try {
      const error = await writeObject(driver, 'exports/1/t/1/file.json', '{}').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PermanentStorageError);
      expect(error).toMatchObject({ type: failure, message: expect.stringMatching(message) });
    } finally {
      s3.faults.refuseUploads = undefined;
      await removeAll(driver);
    }
  });

  it('on a store that cannot list or abort uploads, lists none and says so once', async () => {
    const plain = await startS3TestServer({ multipartListing: false });
    const warnings: string[] = [];
    const driver = driverOn(plain, warnings);
    try {
      const write = await driver.openWrite('exports/1/t/1/file.jsonl');
      await writeChunk(write, Buffer.alloc(6 * 1024 * 1024, 'x'));
      expect(await driver.listTemporary()).toEqual([]);
      expect(await driver.listTemporary()).toEqual([]);
      await write.abort();
      expect(await driver.stat('exports/1/t/1/file.jsonl')).toBeUndefined();
      expect(warnings).toEqual([
        expect.stringContaining('cannot list multipart uploads; its bucket lifecycle rule'),
        expect.stringContaining('did not abort a multipart upload; its bucket lifecycle rule'),
      ]);
    } finally {
      await driver.close?.();
      await plain.close();
    }
  });
});
