/**
 * A real S3-compatible server on loopback for the tests and the bench: s3rver (npm), which speaks S3's
 * REST API over HTTP and implements multipart uploads, on a folder of its own. Of SigV4 requests it
 * checks the access key and, for presigned links, the expiry, but not the signature itself.
 *
 * What s3rver 3.7 lacks that the S3 driver uses, and what is done about it here:
 * - ListMultipartUploads and AbortMultipartUpload (it answers NotImplemented and MethodNotAllowed):
 *   added below, on s3rver's own upload folders, ahead of its routes (so without signature checks),
 *   and only where `multipartListing` is on; with it off the driver meets a store that lacks them.
 * - Parts sent to an upload that was aborted: s3rver would accept them; answered NoSuchUpload here.
 * - Atomic writes: s3rver writes an object in place, so two uploads of one key racing each other can
 *   interleave. S3 makes every PUT and completion atomic; that contract test is skipped on s3rver.
 * - Ranges: s3rver reads `bytes=0-0` as the whole object; signatures: see above. Those assertions
 *   are skipped on s3rver.
 * - Lifecycle rules (AbortIncompleteMultipartUpload): not implemented; docs/deploying.md names the rule.
 * `faults` make it answer as a failing store would, for the error-path tests.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import S3rver, { type KoaContext } from 's3rver';

/** s3rver's fixed account. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface S3Faults {
  /** CompleteMultipartUpload answers 200 with an error body (as S3 may), without completing. */
  completeAnswersErrorIn200?: boolean;
  /** Every part and PutObject is refused with this code and HTTP status, e.g. XMinioStorageFull 507. */
  refuseUploads?: { code: string; status: number };
}

export interface S3TestServer {
  /** The URL for CHATPORT_S3_ENDPOINT, e.g. http://127.0.0.1:41235. */
  endpoint: string;
  bucket: string;
  /** Where s3rver keeps the bucket. */
  directory: string;
  faults: S3Faults;
  /** CHATPORT_STORAGE and the settings around it, for a chatport process using this server. */
  env(prefix?: string): Record<string, string>;
  close(): Promise<void>;
}

const UPLOADS = '._S3rver_uploads';

function xml(ctx: KoaContext, status: number, body: string): void {
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function s3Error(ctx: KoaContext, status: number, code: string, message: string): void {
  xml(ctx, status, `<Error><Code>${code}</Code><Message>${escape(message)}</Message></Error>`);
}

/** Starts s3rver on a free loopback port with one empty bucket. */
export async function startS3TestServer({
  bucket = 'chatport-test',
  multipartListing = true,
}: { bucket?: string; multipartListing?: boolean } = {}): Promise<S3TestServer> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'chatport-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    vhostBuckets: false,
    configureBuckets: [{ name: bucket }],
  });
  const faults: S3Faults = {};
  const uploadsDir = path.join(directory, bucket, UPLOADS);
  // Parts being stored, by upload: an abort waits for them, as s3rver fails when its folder vanishes.
  const storing = new Map<string, Set<Promise<void>>>();
  const uploadDir = (id: string | undefined) =>
    id && /^[0-9a-f]{32}$/.test(id) ? path.join(uploadsDir, id) : undefined;

  server.middleware.unshift(async (ctx, next) => {
    const inBucket = ctx.path === `/${bucket}` || ctx.path.startsWith(`/${bucket}/`);
    const uploadId = ctx.query.uploadId;
    if (inBucket && faults.refuseUploads && ctx.method === 'PUT') {
      const { code, status } = faults.refuseUploads;
      return s3Error(ctx, status, code, 'refused by the test server');
    }
    if (inBucket && uploadId !== undefined && ctx.method === 'POST' && faults.completeAnswersErrorIn200) {
      return s3Error(ctx, 200, 'InternalError', 'We encountered an internal error. Please try again.');
    }
    if (!multipartListing || !inBucket) return next();
    if (uploadId !== undefined) {
      const dir = uploadDir(uploadId);
      if (!dir || !fs.existsSync(dir)) {
        return s3Error(ctx, 404, 'NoSuchUpload', 'The specified upload does not exist.');
      }
      if (ctx.method === 'DELETE') {
        await Promise.allSettled([...(storing.get(uploadId) ?? [])]);
        fs.rmSync(dir, { recursive: true, force: true });
        ctx.status = 204;
        ctx.body = '';
        return;
      }
      const parts = storing.get(uploadId) ?? new Set<Promise<void>>();
      storing.set(uploadId, parts);
      const stored = next();
      parts.add(stored);
      try {
        return await stored;
      } finally {
        parts.delete(stored);
      }
    }
    if (ctx.method === 'GET' && ctx.path.replace(/\/$/, '') === `/${bucket}` && 'uploads' in ctx.query) {
      const prefix = ctx.query.prefix ?? '';
      const uploads = fs.existsSync(uploadsDir) ? fs.readdirSync(uploadsDir) : [];
      const entries = uploads.flatMap((id) => {
        const keyFile = path.join(uploadsDir, id, 'key');
        if (!fs.existsSync(keyFile)) return [];
        const key = fs.readFileSync(keyFile, 'utf8');
        if (!key.startsWith(prefix)) return [];
        const initiated = fs.statSync(keyFile).mtime.toISOString();
        return [
          `<Upload><Key>${escape(key)}</Key><UploadId>${id}</UploadId><Initiated>${initiated}</Initiated></Upload>`,
        ];
      });
      return xml(
        ctx,
        200,
        `<ListMultipartUploadsResult><Bucket>${bucket}</Bucket><Prefix>${escape(prefix)}</Prefix>` +
          `<IsTruncated>false</IsTruncated>${entries.join('')}</ListMultipartUploadsResult>`,
      );
    }
    return next();
  });

  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    bucket,
    directory,
    faults,
    env: (prefix = 'chatport') => ({
      CHATPORT_STORAGE: `s3://${bucket}/${prefix}`,
      CHATPORT_S3_ENDPOINT: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    }),
    async close() {
      server.httpServer.closeAllConnections();
      await server.close();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}
