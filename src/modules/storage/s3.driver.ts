import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  paginateListObjectsV2,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { classifyS3Error, isS3NotFound, isS3Unsupported, s3ErrorCode } from './s3.errors.js';
import { openS3Upload, type S3UploadState, type UploadSizing } from './s3.upload.js';
import { StorageObjectNotFoundError } from './storage.errors.js';
import { validateByteRange, validateStorageKey } from './storage.keys.js';
import type { StorageDriver, TemporaryObject, WriteSavepoint } from './storage.types.js';

export interface S3DriverOptions {
  bucket: string;
  /** Prepended to every key: `''`, or folders ending in `/` (`chatport/`). */
  prefix: string;
  /** CHATPORT_S3_ENDPOINT: an S3-compatible store's URL; unset means AWS's regional endpoint. */
  endpoint?: string;
  /** AWS_REGION (or AWS_DEFAULT_REGION). */
  region: string;
  /** Static credentials; undefined: the SDK's chain (environment, profile, instance or task role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** `https://host/bucket/key` instead of `https://bucket.host/key`, as most S3-compatible stores want. */
  forcePathStyle: boolean;
  sizing: UploadSizing;
  /** Told about what the store cannot do (no multipart listing or abort): once each, for the logs. */
  warn(message: string, details?: Record<string, unknown>): void;
}

/** A savepoint's upload state, when it names an upload with at least one part (else nothing to resume). */
function uploadStateOf(savepoint: WriteSavepoint): S3UploadState | undefined {
  const { uploadId, parts } = savepoint.state;
  if (typeof uploadId !== 'string' || !Array.isArray(parts) || parts.length === 0) return undefined;
  const valid = parts.every(
    (part: unknown, index) =>
      typeof part === 'object' &&
      part !== null &&
      (part as { number?: unknown }).number === index + 1 &&
      typeof (part as { etag?: unknown }).etag === 'string' &&
      Number.isSafeInteger((part as { size?: unknown }).size),
  );
  if (!valid) return undefined;
  const state = { uploadId, parts: parts as S3UploadState['parts'] };
  const bytes = state.parts.reduce((total, part) => total + part.size, 0);
  return bytes === savepoint.bytes ? state : undefined;
}

/**
 * Objects in one S3 bucket (AWS S3 or any store speaking its API: MinIO, Ceph RGW, Cloudflare R2, ...),
 * under `<prefix><key>`. Writes are multipart uploads (s3.upload.ts), temporaries the uploads not yet
 * completed, and downloads presigned GETs: the bytes go between the store and the client, not through
 * chatport. Credentials come from the SDK's usual chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,
 * a profile, an instance or task role).
 */
export function createS3Driver(options: S3DriverOptions): StorageDriver {
  const { bucket, prefix } = options;
  const client = new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    credentials: options.credentials,
    // Checksums beyond SigV4's payload hash only where S3 requires them: many S3-compatible stores
    // refuse the newer checksum headers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const objectKey = (key: string) => prefix + validateStorageKey(key);
  const warned = new Set<string>();
  const warnOnce = (what: string, message: string, details?: Record<string, unknown>) => {
    if (warned.has(what)) return;
    warned.add(what);
    options.warn(message, details);
  };

  const onAbortFailure = (error: unknown, uploadId: string) =>
    warnOnce(
      'abort',
      'the object store did not abort a multipart upload; its bucket lifecycle rule must remove such uploads',
      { err: error, uploadId, code: s3ErrorCode(error) },
    );

  /** The ETags of an upload's parts, by number. */
  async function listParts(target: string, uploadId: string): Promise<Map<number, string>> {
    const parts = new Map<number, string>();
    let marker: string | undefined;
    for (;;) {
      const page = await client.send(
        new ListPartsCommand({ Bucket: bucket, Key: target, UploadId: uploadId, PartNumberMarker: marker }),
      );
      for (const part of page.Parts ?? []) {
        if (part.PartNumber !== undefined && part.ETag) parts.set(part.PartNumber, part.ETag);
      }
      if (!page.IsTruncated) return parts;
      marker = page.NextPartNumberMarker;
    }
  }

  async function send<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw classifyS3Error(error);
    }
  }

  return {
    name: 's3',

    async openWrite(key) {
      return openS3Upload({
        client,
        bucket,
        objectKey: objectKey(key),
        sizing: options.sizing,
        onAbortFailure,
      });
    },

    async resumeWrite(key, savepoint) {
      const state = uploadStateOf(savepoint);
      if (!state) return undefined;
      const target = objectKey(key);
      // The upload must still be there with those very parts: it may have been aborted (by the
      // sweeper, or a lifecycle rule) since.
      let listed: Map<number, string> | undefined;
      try {
        listed = await listParts(target, state.uploadId);
      } catch (error) {
        if (isS3NotFound(error)) return undefined;
        if (!isS3Unsupported(error)) throw classifyS3Error(error);
        warnOnce(
          'parts',
          'the object store cannot list the parts of an upload; resumed uploads are trusted',
          {
            code: s3ErrorCode(error),
          },
        );
      }
      if (listed && state.parts.some((part) => listed.get(part.number) !== part.etag)) return undefined;
      return openS3Upload({
        client,
        bucket,
        objectKey: target,
        sizing: options.sizing,
        onAbortFailure,
        resume: state,
      });
    },

    async stat(key) {
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
        return {
          size: head.ContentLength ?? 0,
          etag: head.ETag ?? '""',
          modifiedAt: (head.LastModified?.getTime() ?? 0) * 1000,
        };
      } catch (error) {
        if (isS3NotFound(error)) return undefined;
        throw classifyS3Error(error);
      }
    },

    async openRead(key, range) {
      const target = objectKey(key);
      if (range) validateByteRange(range);
      try {
        const object = await client.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: target,
            Range: range ? `bytes=${range.start}-${range.end}` : undefined,
          }),
        );
        return object.Body as Readable;
      } catch (error) {
        if (isS3NotFound(error)) throw new StorageObjectNotFoundError(key);
        // A range that starts past the end: S3 answers 416, the contract an empty read.
        if (range && s3ErrorCode(error) === 'InvalidRange') return Readable.from([]);
        throw classifyS3Error(error);
      }
    },

    async delete(key) {
      // DeleteObject answers the same whether there was an object or not: ask first.
      if (!(await this.stat(key))) return false;
      await send(() => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: objectKey(key) })));
      return true;
    },

    async *listObjects(listPrefix) {
      const pages = paginateListObjectsV2({ client }, { Bucket: bucket, Prefix: prefix + listPrefix });
      for await (const page of pages) {
        for (const object of page.Contents ?? []) {
          if (!object.Key?.startsWith(prefix)) continue;
          yield {
            key: object.Key.slice(prefix.length),
            size: object.Size ?? 0,
            modifiedAt: (object.LastModified?.getTime() ?? 0) * 1000,
          };
        }
      }
    },

    async listTemporary(olderThanMicros = Number.POSITIVE_INFINITY) {
      const found: TemporaryObject[] = [];
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      for (;;) {
        let page;
        try {
          page = await client.send(
            new ListMultipartUploadsCommand({
              Bucket: bucket,
              Prefix: prefix,
              KeyMarker: keyMarker,
              UploadIdMarker: uploadIdMarker,
            }),
          );
        } catch (error) {
          if (!isS3Unsupported(error)) throw classifyS3Error(error);
          warnOnce(
            'list',
            'the object store cannot list multipart uploads; its bucket lifecycle rule must remove abandoned ones',
            { code: s3ErrorCode(error) },
          );
          return [];
        }
        for (const upload of page.Uploads ?? []) {
          // S3 tells when an upload started, not when it was last written to.
          const initiated = (upload.Initiated?.getTime() ?? 0) * 1000;
          if (!upload.Key?.startsWith(prefix) || !upload.UploadId || initiated >= olderThanMicros) continue;
          found.push({ key: upload.Key.slice(prefix.length), name: upload.UploadId, modifiedAt: initiated });
        }
        if (!page.IsTruncated) return found;
        keyMarker = page.NextKeyMarker;
        uploadIdMarker = page.NextUploadIdMarker;
      }
    },

    async removeTemporary(temporary) {
      try {
        await client.send(
          new AbortMultipartUploadCommand({
            Bucket: bucket,
            Key: objectKey(temporary.key),
            UploadId: temporary.name,
          }),
        );
        return true;
      } catch (error) {
        if (isS3NotFound(error)) return false;
        throw classifyS3Error(error);
      }
    },

    async presignRead(key, { expiresInSeconds, signedAtMicros, contentDisposition, contentType }) {
      const command = new GetObjectCommand({
        Bucket: bucket,
        Key: objectKey(key),
        ResponseContentDisposition: contentDisposition,
        ResponseContentType: contentType,
      });
      return send(() =>
        getSignedUrl(client, command, {
          expiresIn: expiresInSeconds,
          signingDate: new Date(Math.floor(signedAtMicros / 1000)),
        }),
      );
    },

    async close() {
      client.destroy();
    },
  };
}
