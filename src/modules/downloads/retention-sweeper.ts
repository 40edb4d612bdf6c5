import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../../database/database.types.js';
import { MICROS_PER_HOUR, type Clock } from '../../lib/time.js';
import type { StorageDriver } from '../storage/storage.types.js';
import { markFileDeleted, selectExpiredFiles } from './downloads.repository.js';

export interface RetentionDependencies {
  db: Kysely<Database>;
  storage: StorageDriver;
  clock: Clock;
  logger: Logger;
}

export interface RetentionOptions {
  /**
   * Temporaries (leftovers of writes that never committed or aborted) untouched for this long are
   * removed. Default 1 hour: a live export keeps writing, and each write refreshes its
   * temporary, so only writers that died are that quiet.
   */
  temporaryMaxAgeMicros?: number;
  /** Rows read per query, default 100. */
  batchSize?: number;
}

export interface SweepReport {
  filesDeleted: number;
  /** Files whose delete failed; they are tried again on the next sweep. */
  failures: number;
  temporariesRemoved: number;
}

/**
 * Deletes the files of tasks whose retention is over (`file_expires_at <= now`, not yet deleted) and
 * records `file_deleted_at`; then removes stale temporaries. Safe to run from several processes at once.
 */
export async function sweepExpiredFiles({
  db,
  storage,
  clock,
  logger,
  temporaryMaxAgeMicros = MICROS_PER_HOUR,
  batchSize = 100,
}: RetentionDependencies & RetentionOptions): Promise<SweepReport> {
  const now = clock.nowMicros();
  const report: SweepReport = { filesDeleted: 0, failures: 0, temporariesRemoved: 0 };
  let after: { expiresAt: number; id: string } | undefined;
  for (;;) {
    const expired = await selectExpiredFiles(db, { nowMicros: now, after, limit: batchSize });
    for (const task of expired) {
      after = { expiresAt: task.file_expires_at ?? now, id: task.id };
      try {
        // The file first, the row second: a crash in between leaves a row whose file is already gone,
        // which the next sweep completes; the other order could leave a file nobody deletes.
        await storage.delete(task.file_key);
        await markFileDeleted(db, {
          appId: task.app_id,
          taskId: task.id,
          fileKey: task.file_key,
          deletedAt: now,
        });
        report.filesDeleted++;
      } catch (error) {
        report.failures++;
        logger.error(
          { err: error, taskId: task.id, key: task.file_key },
          'retention: deleting a file failed',
        );
      }
    }
    if (expired.length < batchSize) break;
  }
  report.temporariesRemoved = await storage.sweepTemporary(now - temporaryMaxAgeMicros);
  if (report.filesDeleted > 0 || report.failures > 0 || report.temporariesRemoved > 0) {
    logger.info(report, 'retention sweep');
  }
  return report;
}

/**
 * Runs `sweepExpiredFiles` now and then every `intervalMillis` (default 10 minutes) until `stop()`,
 * which waits for a sweep in progress. A failed sweep is logged and the next one runs as planned.
 */
export function startRetentionSweeper({
  intervalMillis = 10 * 60_000,
  ...dependencies
}: RetentionDependencies & RetentionOptions & { intervalMillis?: number }): { stop(): Promise<void> } {
  let stopped = false;
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  function schedule(delayMillis: number): void {
    timer = setTimeout(() => {
      running = sweepExpiredFiles(dependencies)
        .then(
          () => undefined,
          (error: unknown) => dependencies.logger.error({ err: error }, 'retention sweep failed'),
        )
        .finally(() => {
          running = undefined;
          if (!stopped) schedule(intervalMillis);
        });
    }, delayMillis);
    // The sweeper never keeps a process alive on its own.
    timer.unref();
  }

  schedule(0);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
