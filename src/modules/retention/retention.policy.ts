/**
 * Retention of export files, decided here and nowhere else: how long a published file is kept, when it
 * stops being served, and which stored bytes nothing needs any more. Pure: callers hand in the time.
 *
 * - A completed export's file is kept CHATPORT_RETENTION_DAYS (60) after it was published
 *   (`file_expires_at`). From then on no link is issued and no download served, whether or not the
 *   sweeper has deleted it yet (`file_deleted_at`).
 * - Every attempt writes its own key (`exports/<app>/<task>/<attempt>/<file>`). Bytes under a key are
 *   needed while the task names the key as its live file, or while that attempt still runs (it may
 *   yet publish them); anything else is left over from an attempt that died or lost its lease, and
 *   the sweeper deletes it (retention.sweeper.ts). A write's temporary is kept as long as its task is
 *   not over, whichever attempt wrote it: a later attempt may resume it from a checkpoint.
 */
import { formatMicros, MICROS_PER_DAY } from '../../lib/time.js';
import type { ExportFileKey } from '../storage/storage.keys.js';

/** CHATPORT_RETENTION_DAYS when not configured. */
export const DEFAULT_RETENTION_DAYS = 60;

/**
 * How long an incremental export's cursor stays usable: as long as the export file that carried it is
 * kept. Tombstones (deletes) are kept a day longer (tombstonesPrunedBefore), so a cursor inside its
 * horizon never misses one; past it, an export from the cursor is refused.
 */
export function cursorHorizonMicros(retentionDays: number): number {
  return retentionDays * MICROS_PER_DAY;
}

/** Tombstones of deletes before this time are pruned by the sweeper. */
export function tombstonesPrunedBefore(nowMicros: number, retentionDays: number): number {
  return nowMicros - cursorHorizonMicros(retentionDays) - MICROS_PER_DAY;
}

/** When a file published at `publishedAtMicros` expires. */
export function fileExpiresAt(publishedAtMicros: number, retentionDays: number): number {
  return publishedAtMicros + retentionDays * MICROS_PER_DAY;
}

/** A task's file columns. */
export interface PublishedFileState {
  file_expires_at: number | null;
  file_deleted_at: number | null;
}

/** When the file stopped being available (it expired, or retention deleted it), or null while it is. */
export function fileExpiredAt(file: PublishedFileState, nowMicros: number): number | null {
  if (file.file_expires_at !== null && file.file_expires_at <= nowMicros) return file.file_expires_at;
  return file.file_deleted_at;
}

/** What a task status says in place of a link once its file expired. */
export function expiredFileNote(retentionDays: number, expiredAtMicros: number): string {
  return (
    `export files are kept for ${retentionDays} days; this one expired at ` +
    `${formatMicros(expiredAtMicros)} and is no longer available`
  );
}

/** What the sweeper knows of the task an export key belongs to. */
export interface TaskFileState extends PublishedFileState {
  id: string;
  app_id: number;
  status: string;
  attempt: number;
  file_key: string | null;
}

/**
 * Whether stored bytes under an export key (a committed object or, with `temporary`, a write's
 * temporary) are still needed: `keep` while the task names the key as its live file or the attempt
 * that wrote it still runs, and a temporary until its task is over; `delete` once none holds; `unknown` for a task this database does not have (a bucket prefix
 * shared with another deployment, a database restored from an older backup): never deleted.
 */
export function storedExportFate(
  key: ExportFileKey,
  task: TaskFileState | undefined,
  { temporary = false }: { temporary?: boolean } = {},
): 'keep' | 'delete' | 'unknown' {
  if (!task || task.app_id !== key.appId) return 'unknown';
  if (task.file_key === key.key && task.file_deleted_at === null) return 'keep';
  const over = task.status === 'completed' || task.status === 'failed';
  if (temporary && !over) return 'keep';
  if (key.attempt === undefined) {
    // Written before attempts had folders of their own: only a finished task tells it is over.
    return over ? 'delete' : 'keep';
  }
  return task.status === 'running' && task.attempt === key.attempt ? 'keep' : 'delete';
}
