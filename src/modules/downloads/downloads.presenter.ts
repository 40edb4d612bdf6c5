import type { Config } from '../../config.js';
import type { AppRow, TaskRow } from '../../database/database.types.js';
import { formatMicros, type Clock } from '../../lib/time.js';
import { expiredFileNote, fileExpiredAt } from '../retention/retention.policy.js';
import { storageKeyFilename } from '../storage/storage.keys.js';
import type { StorageDriver } from '../storage/storage.types.js';
import { signDownloadUrl } from './download-links.js';
import { attachmentDisposition, contentTypeOf } from './downloads.headers.js';

/** How a completed export's file appears in its task status: a fresh link, or why there is none. */
export type PresentedDownload = { url: string; expires_at: string } | { expired: true; note: string };

const MICROS_PER_SECOND = 1_000_000;

/**
 * Presents the file a completed task published. Every call signs a new link valid for
 * `config.linkTtlHours` (never past the file's own expiry): a presigned GET straight from the store
 * where the storage makes them (S3), else a link to chatport's `/downloads` route (local disk). Once
 * retention is over (retention.policy.ts) there is no link, only a note.
 */
export async function presentDownload({
  task,
  app,
  config,
  clock,
  storage,
}: {
  task: Pick<TaskRow, 'id' | 'app_id' | 'file_key' | 'file_expires_at' | 'file_deleted_at'>;
  app: Pick<AppRow, 'id' | 'api_secret'>;
  config: Pick<Config, 'publicUrl' | 'linkTtlHours' | 'retentionDays'>;
  clock: Clock;
  storage: Pick<StorageDriver, 'presignRead'>;
}): Promise<PresentedDownload> {
  if (task.file_key === null) throw new Error(`task ${task.id} has published no file`);
  if (task.app_id !== app.id) throw new Error(`task ${task.id} belongs to app ${task.app_id}, not ${app.id}`);
  const now = clock.nowMicros();
  const expiredAt = fileExpiredAt(task, now);
  if (expiredAt !== null) return { expired: true, note: expiredFileNote(config.retentionDays, expiredAt) };
  const nowSeconds = Math.floor(now / MICROS_PER_SECOND);
  let expiresAtSeconds = nowSeconds + Math.round(config.linkTtlHours * 3600);
  if (task.file_expires_at !== null) {
    expiresAtSeconds = Math.min(expiresAtSeconds, Math.floor(task.file_expires_at / MICROS_PER_SECOND));
  }
  const filename = storageKeyFilename(task.file_key);
  const url = storage.presignRead
    ? await storage.presignRead(task.file_key, {
        expiresInSeconds: Math.max(1, expiresAtSeconds - nowSeconds),
        signedAtMicros: nowSeconds * MICROS_PER_SECOND,
        contentDisposition: attachmentDisposition(filename),
        contentType: contentTypeOf(filename),
      })
    : signDownloadUrl({
        publicUrl: config.publicUrl,
        appId: app.id,
        taskId: task.id,
        filename,
        expiresAtSeconds,
        secret: app.api_secret,
      });
  return { url, expires_at: formatMicros(expiresAtSeconds * MICROS_PER_SECOND) };
}
