import type { Kysely } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../../database/database.types.js';
import { notAllowed, notFound } from '../../lib/errors.js';
import type { Clock } from '../../lib/time.js';
import { fileExpiredAt } from '../retention/retention.policy.js';
import { storageKeyFilename } from '../storage/storage.keys.js';
import type { StorageDriver, StoredObject } from '../storage/storage.types.js';
import { verifyDownloadSignature } from './download-links.js';
import { findAppSecret, findPublishedFile } from './downloads.repository.js';

/** A download link as it arrived: path segments and query values, none of them trusted yet. */
export interface DownloadRequest {
  appId: string;
  taskId: string;
  filename: string;
  expires: unknown;
  signature: unknown;
}

const APP_ID = /^[1-9][0-9]{0,14}$/;

/**
 * The stored file a download link names, or the ApiError to answer:
 * - a link that is malformed, tampered with or expired: 403 code 17 (which of these is only logged);
 * - a validly signed link whose file is gone (retention over, task deleted): 404 code 16. Not 410:
 *   Stream's error codes have no "gone", and SDKs know 404 code 16 as "can't find".
 * The key comes from the task's row, never from the URL, so a link reaches only what its task published.
 */
export async function findDownloadableFile({
  db,
  storage,
  clock,
  logger,
  request,
}: {
  db: Kysely<Database>;
  storage: StorageDriver;
  clock: Clock;
  logger: Pick<FastifyBaseLogger, 'debug' | 'warn'>;
  request: DownloadRequest;
}): Promise<{ key: string; stored: StoredObject }> {
  const { taskId, filename } = request;
  const refuse = (reason: string) => {
    logger.debug({ appId: request.appId, taskId, reason }, 'download link refused');
    return notAllowed(
      reason === 'expired'
        ? 'the download link has expired; get the task status again for a fresh link'
        : 'the download link is not valid',
    );
  };
  if (!APP_ID.test(request.appId)) throw refuse('malformed');
  const appId = Number(request.appId);
  const secret = await findAppSecret(db, appId);
  if (secret === undefined) throw refuse('unknown app');
  const now = clock.nowMicros();
  const check = verifyDownloadSignature({
    appId,
    taskId,
    filename,
    expires: request.expires,
    signature: request.signature,
    secret,
    nowSeconds: Math.floor(now / 1_000_000),
  });
  if (!check.valid) throw refuse(check.reason);

  const file = await findPublishedFile(db, appId, taskId);
  if (!file || file.file_key === null || storageKeyFilename(file.file_key) !== filename) {
    throw notFound(`Can't find a file published by task ${taskId}`);
  }
  if (fileExpiredAt(file, now) !== null) {
    throw notFound(`the file of task ${taskId} was deleted at the end of its retention period`);
  }
  const stored = await storage.stat(file.file_key);
  if (!stored) {
    logger.warn({ taskId, key: file.file_key }, 'a published export file is missing from storage');
    throw notFound(`Can't find the file of task ${taskId}`);
  }
  return { key: file.file_key, stored };
}
