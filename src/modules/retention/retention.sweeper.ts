import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../../database/database.types.js';
import { MICROS_PER_HOUR, type Clock } from '../../lib/time.js';
import { EXPORTS_PREFIX, parseExportFileKey } from '../storage/storage.keys.js';
import type { ListedObject, StorageDriver, TemporaryObject } from '../storage/storage.types.js';
import { DEFAULT_RETENTION_DAYS, storedExportFate, tombstonesPrunedBefore } from './retention.policy.js';
import {
  findTaskFileStates,
  markFileDeleted,
  pruneTombstones,
  selectExpiredFiles,
} from './retention.repository.js';

export interface RetentionDependencies {
  db: Kysely<Database>;
  storage: StorageDriver;
  clock: Clock;
  logger: Logger;
  /** CHATPORT_RETENTION_DAYS (default 60): also the horizon of incremental export cursors. */
  config?: { retentionDays: number };
}

export interface RetentionOptions {
  /**
   * Temporaries the sweeper cannot tie to a task (not under an export key) are removed once untouched
   * this long. Default 1 hour: a live write keeps writing, and each write refreshes its temporary.
   * Those of export attempts go as soon as their attempt is over, however recent.
   */
  temporaryMaxAgeMicros?: number;
  /** Rows read (and objects checked) per query, default 100. */
  batchSize?: number;
}

export interface SweepReport {
  /** Files of tasks whose retention is over. */
  filesDeleted: number;
  /** Objects no task references, left by attempts that died or lost their lease after publishing. */
  orphansDeleted: number;
  temporariesRemoved: number;
  /** Objects and temporaries under export keys of tasks this database does not know: left alone. */
  unknown: number;
  /** Tombstones of deletes older than the horizon of incremental export cursors. */
  tombstonesPruned: number;
  /** Deletes that failed; they are tried again on the next sweep. */
  failures: number;
}

type Sweep = RetentionDependencies & Required<RetentionOptions> & { report: SweepReport; now: number };

/**
 * One pass over export storage: deletes the files of tasks whose retention is over (recording
 * `file_deleted_at`), then every object and temporary under an export key that nothing needs any more
 * (retention.policy.ts, storedExportFate), then other temporaries untouched for an hour. Safe to run
 * from several processes at once: every step is idempotent.
 */
export async function sweepExpiredFiles({
  temporaryMaxAgeMicros = MICROS_PER_HOUR,
  batchSize = 100,
  ...dependencies
}: RetentionDependencies & RetentionOptions): Promise<SweepReport> {
  const report: SweepReport = {
    filesDeleted: 0,
    orphansDeleted: 0,
    temporariesRemoved: 0,
    unknown: 0,
    tombstonesPruned: 0,
    failures: 0,
  };
  const sweep: Sweep = {
    ...dependencies,
    temporaryMaxAgeMicros,
    batchSize,
    report,
    now: dependencies.clock.nowMicros(),
  };
  await deleteExpiredFiles(sweep);
  await deleteOrphans(sweep);
  await removeDeadTemporaries(sweep);
  await pruneOldTombstones(sweep);
  const { filesDeleted, orphansDeleted, temporariesRemoved, unknown, tombstonesPruned, failures } = report;
  if (filesDeleted + orphansDeleted + temporariesRemoved + unknown + tombstonesPruned + failures > 0) {
    dependencies.logger.info(report, 'retention sweep');
  }
  return report;
}

/** Forgets deletes older than any usable cursor (retention.policy's tombstonesPrunedBefore). */
async function pruneOldTombstones(sweep: Sweep): Promise<void> {
  const before = tombstonesPrunedBefore(sweep.now, sweep.config?.retentionDays ?? DEFAULT_RETENTION_DAYS);
  const limit = 50 * sweep.batchSize;
  for (;;) {
    const pruned = await pruneTombstones(sweep.db, { before, limit });
    sweep.report.tombstonesPruned += pruned;
    if (pruned < limit) return;
  }
}

async function deleteExpiredFiles(sweep: Sweep): Promise<void> {
  const { db, storage, logger, report, now, batchSize } = sweep;
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
}

/**
 * Runs `decide` on batches of stored things under export keys, with the rows of their tasks read in
 * one query per batch. Things under other keys get `undefined`.
 */
async function inBatches<T extends { key: string }>(
  sweep: Sweep,
  items: AsyncIterable<T> | Iterable<T>,
  decide: (item: T, fate: ReturnType<typeof storedExportFate> | undefined) => Promise<void>,
  { temporary = false }: { temporary?: boolean } = {},
): Promise<void> {
  let batch: T[] = [];
  const settle = async () => {
    const parsed = batch.map((item) => parseExportFileKey(item.key));
    const ids = [...new Set(parsed.flatMap((key) => (key ? [key.taskId] : [])))];
    const tasks = await findTaskFileStates(sweep.db, ids);
    for (const [index, item] of batch.entries()) {
      const key = parsed[index];
      await decide(item, key ? storedExportFate(key, tasks.get(key.taskId), { temporary }) : undefined);
    }
    batch = [];
  };
  for await (const item of items) {
    batch.push(item);
    if (batch.length >= sweep.batchSize) await settle();
  }
  await settle();
}

async function deleteOrphans(sweep: Sweep): Promise<void> {
  const { storage, logger, report } = sweep;
  await inBatches<ListedObject>(sweep, storage.listObjects(EXPORTS_PREFIX), async (object, fate) => {
    if (fate === 'unknown') report.unknown++;
    if (fate !== 'delete') return;
    try {
      await storage.delete(object.key);
      report.orphansDeleted++;
    } catch (error) {
      report.failures++;
      logger.error({ err: error, key: object.key }, 'retention: deleting an orphaned file failed');
    }
  });
}

async function removeDeadTemporaries(sweep: Sweep): Promise<void> {
  const { storage, logger, report, now, temporaryMaxAgeMicros } = sweep;
  const temporaries = await storage.listTemporary();
  await inBatches<TemporaryObject>(
    sweep,
    temporaries,
    async (temporary, fate) => {
      // A temporary of no export attempt this database knows goes by age alone.
      const byAge = fate === undefined || fate === 'unknown';
      const stale = byAge && temporary.modifiedAt < now - temporaryMaxAgeMicros;
      if (fate !== 'delete' && !stale) return;
      try {
        if (await storage.removeTemporary(temporary)) report.temporariesRemoved++;
      } catch (error) {
        report.failures++;
        logger.error({ err: error, temporary: temporary.name }, 'retention: removing a temporary failed');
      }
    },
    { temporary: true },
  );
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
