import { finished } from 'node:stream/promises';
import { Writable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { classifyS3Error, isS3NotFound } from './s3.errors.js';
import type { CommittedObject, PendingWrite } from './storage.types.js';

/** How a write cuts its object into parts. */
export interface UploadSizing {
  /** Bytes of every part but the last (S3: at least 5 MiB; R2 wants them all equal, so they are). */
  partSize: number;
  /** Parts uploading at once. Memory: about partSize × (concurrency + 1). */
  concurrency: number;
}

/** Bytes the stream holds before it pushes back, as the local-disk sink does. */
const STREAM_BUFFER_BYTES = 1024 * 1024;

/**
 * One write to S3, as a PendingWrite. The content is cut into parts of `partSize` bytes: an object
 * smaller than one part is sent with one PutObject at commit; a larger one becomes a multipart upload
 * (created with the first full part, the parts uploaded while the content streams in,
 * `concurrency` at a time) that commit completes. Nothing is visible under the key before commit,
 * since S3 publishes a multipart upload only when it completes, and a failed or aborted write aborts
 * its upload. The write callback fires once a part has been handed to the uploads, so the stream's
 * backpressure reflects the store's pace.
 *
 * A write is resumable (`resume`): `uploadId` and the parts uploaded, in order from 1, are the whole
 * of its state, which `savepoint` reports; a resumed write uploads its next parts after them. The
 * tail short of a part is not stored anywhere until commit, so a savepoint counts only the parts.
 */
export function openS3Upload({
  client,
  bucket,
  objectKey,
  sizing,
  onAbortFailure,
  resume,
}: {
  client: S3Client;
  bucket: string;
  objectKey: string;
  sizing: UploadSizing;
  /** Told when an upload could not be aborted (a store without AbortMultipartUpload). */
  onAbortFailure(error: unknown, uploadId: string): void;
  /** The upload an earlier write started, and the parts of it to keep: continued after them. */
  resume?: S3UploadState;
}): PendingWrite {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let totalBytes = resume ? sumOf(resume.parts) : 0;
  let uploadId: string | undefined = resume?.uploadId;
  let creating: Promise<string> | undefined = uploadId === undefined ? undefined : Promise.resolve(uploadId);
  const parts: CompletedPart[] = (resume?.parts ?? []).map((p) => ({ PartNumber: p.number, ETag: p.etag }));
  const sizes = new Map((resume?.parts ?? []).map((p) => [p.number, p.size]));
  let nextPartNumber = parts.length + 1;
  let detached = false;
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  let aborted = false;
  let committing: Promise<CommittedObject> | undefined;

  function startUpload(): Promise<string> {
    creating ??= client
      .send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: objectKey }))
      .then(({ UploadId }) => {
        if (!UploadId) throw new Error('CreateMultipartUpload answered no UploadId');
        uploadId = UploadId;
        return UploadId;
      });
    return creating;
  }

  /** Hands one part to the uploads, waiting first while `concurrency` of them are in flight. */
  async function sendPart(body: Buffer): Promise<void> {
    while (inFlight.size >= sizing.concurrency) await Promise.race(inFlight);
    if (failure) throw failure;
    const id = await startUpload();
    const partNumber = nextPartNumber++;
    const upload = client
      .send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: objectKey,
          UploadId: id,
          PartNumber: partNumber,
          Body: body,
        }),
      )
      .then(({ ETag }) => {
        if (!ETag) throw new Error(`UploadPart ${partNumber} answered no ETag`);
        parts.push({ PartNumber: partNumber, ETag });
        sizes.set(partNumber, body.length);
      })
      .catch((error: unknown) => {
        failure ??= classifyS3Error(error);
      })
      .finally(() => inFlight.delete(upload));
    inFlight.add(upload);
  }

  /** Cuts every full part off the pending bytes and sends it. */
  async function sendFullParts(): Promise<void> {
    while (pendingBytes >= sizing.partSize) {
      const joined = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      const part = joined.subarray(0, sizing.partSize);
      const rest = joined.subarray(sizing.partSize);
      pending = rest.length > 0 ? [rest] : [];
      pendingBytes = rest.length;
      await sendPart(part);
    }
  }

  function take(chunks: Buffer[], callback: (error?: Error | null) => void): void {
    for (const chunk of chunks) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      totalBytes += chunk.length;
    }
    sendFullParts().then(
      () => callback(failure ? (failure as Error) : null),
      (error: unknown) => callback(classifyS3Error(error) as Error),
    );
  }

  const stream = new Writable({
    highWaterMark: STREAM_BUFFER_BYTES,
    write: (chunk: Buffer, _encoding, callback) => take([chunk], callback),
    writev: (chunks, callback) =>
      take(
        chunks.map(({ chunk }) => chunk as Buffer),
        callback,
      ),
    final(callback) {
      // A multipart upload gets its last part here; a smaller object waits whole for commit's PutObject.
      const last = async () => {
        if (creating && pendingBytes > 0) {
          await sendPart(pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes));
          pending = [];
          pendingBytes = 0;
        }
        while (inFlight.size > 0) await Promise.race(inFlight);
        if (failure) throw failure;
      };
      last().then(
        () => callback(),
        (error: unknown) => callback(classifyS3Error(error) as Error),
      );
    },
  });
  // Failures reach the writer through its write callbacks and commit; none may go unhandled.
  stream.on('error', () => undefined);

  async function discard(): Promise<void> {
    if (!stream.destroyed) stream.destroy();
    await Promise.allSettled([...inFlight]);
    const id = await creating?.catch(() => undefined);
    pending = [];
    if (id === undefined) return;
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: objectKey, UploadId: id }));
    } catch (error) {
      if (!isS3NotFound(error)) onAbortFailure(error, id);
    }
  }

  async function publish(): Promise<CommittedObject> {
    if (!stream.writableEnded) stream.end();
    await finished(stream);
    if (uploadId === undefined) {
      const body = Buffer.concat(pending, pendingBytes);
      const { ETag } = await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: objectKey, Body: body, ContentLength: body.length }),
      );
      return { size: body.length, etag: ETag ?? '""' };
    }
    const ordered = [...parts].sort((a, b) => a.PartNumber! - b.PartNumber!);
    // The SDK turns a 200 answer with an error body into a thrown error (S3 may answer so once the
    // completion has started): such an upload did not complete, and discard aborts it.
    const { ETag } = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: objectKey,
        UploadId: uploadId,
        MultipartUpload: { Parts: ordered },
      }),
    );
    return { size: totalBytes, etag: ETag ?? '""' };
  }

  return {
    stream,
    commit() {
      if (aborted) return Promise.reject(new Error(`the write to ${objectKey} was aborted`));
      if (committing) return Promise.reject(new Error(`the write to ${objectKey} was already committed`));
      committing = publish().catch(async (error: unknown) => {
        await discard();
        throw classifyS3Error(error);
      });
      return committing;
    },
    async abort() {
      if (committing) {
        await committing.catch(() => undefined);
        return;
      }
      if (aborted || detached) return;
      aborted = true;
      await discard();
    },
    async savepoint() {
      if (uploadId === undefined) return { bytes: 0, state: {} };
      // Parts finish out of order: only those from 1 on without a gap can be continued after.
      const done = new Map(parts.map((p) => [p.PartNumber!, p.ETag!]));
      const kept: S3UploadState['parts'] = [];
      for (let number = 1; done.has(number); number++)
        kept.push({ number, etag: done.get(number)!, size: sizes.get(number)! });
      const state: S3UploadState = { uploadId, parts: kept };
      return { bytes: sumOf(kept), state: state as unknown as Record<string, unknown> };
    },
    async detach() {
      if (committing || aborted || detached) return this.abort();
      detached = true;
      if (!stream.destroyed) stream.destroy();
      await Promise.allSettled([...inFlight]);
      pending = [];
    },
  };
}

/** A multipart upload as a savepoint records it: its id and its parts, numbered from 1 in order. */
export interface S3UploadState {
  uploadId: string;
  parts: Array<{ number: number; etag: string; size: number }>;
}

function sumOf(parts: S3UploadState['parts']): number {
  return parts.reduce((total, part) => total + part.size, 0);
}
