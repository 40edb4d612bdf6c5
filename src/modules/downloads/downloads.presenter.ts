import type { Config } from '../../config.js';
import type { AppRow, TaskRow } from '../../database/database.types.js';
import { formatMicros, type Clock } from '../../lib/time.js';
import { storageKeyFilename } from '../storage/storage.keys.js';
import { signDownloadUrl } from './download-links.js';

/** How a completed export's file appears in its task status: a fresh link, or why there is none. */
export type PresentedDownload = { url: string; expires_at: string } | { expired: true; note: string };

const MICROS_PER_SECOND = 1_000_000;

/**
 * Presents the file a completed task published. Every call signs a new link valid for
 * `config.linkTtlHours` (never past the file's own expiry). Once retention is over (`file_expires_at`
 * passed, whether or not the sweeper has deleted the file yet) there is no link, only a note.
 */
export function presentDownload({
  task,
  app,
  config,
  clock,
}: {
  task: Pick<TaskRow, 'id' | 'app_id' | 'file_key' | 'file_expires_at' | 'file_deleted_at'>;
  app: Pick<AppRow, 'id' | 'api_secret'>;
  config: Pick<Config, 'publicUrl' | 'linkTtlHours' | 'retentionDays'>;
  clock: Clock;
}): PresentedDownload {
  if (task.file_key === null) throw new Error(`task ${task.id} has published no file`);
  if (task.app_id !== app.id) throw new Error(`task ${task.id} belongs to app ${task.app_id}, not ${app.id}`);
  const now = clock.nowMicros();
  const expiredAt =
    task.file_expires_at !== null && task.file_expires_at <= now
      ? task.file_expires_at
      : task.file_deleted_at;
  if (expiredAt !== null) {
    return {
      expired: true,
      note:
        `export files are kept for ${config.retentionDays} days; this one expired at ` +
        `${formatMicros(expiredAt)} and is no longer available`,
    };
  }
  let expiresAtSeconds = Math.floor(now / MICROS_PER_SECOND) + Math.round(config.linkTtlHours * 3600);
  if (task.file_expires_at !== null) {
    expiresAtSeconds = Math.min(expiresAtSeconds, Math.floor(task.file_expires_at / MICROS_PER_SECOND));
  }
  const url = signDownloadUrl({
    publicUrl: config.publicUrl,
    appId: app.id,
    taskId: task.id,
    filename: storageKeyFilename(task.file_key),
    expiresAtSeconds,
    secret: app.api_secret,
  });
  return { url, expires_at: formatMicros(expiresAtSeconds * MICROS_PER_SECOND) };
}
