import os from 'node:os';
import { findChannelsByCids } from '../channels/channels.repository.js';
import { fileExpiresAt } from '../retention/retention.policy.js';
import { exportFileKey } from '../storage/storage.keys.js';
import { payloadParser } from '../tasks/tasks.payload.js';
import type { TaskInvocation, TaskKind } from '../tasks/tasks.types.js';
import { ChannelExportRequest } from './channel-export.request.js';
import { writeChannelExport, type ExportTarget } from './channel-export.writer.js';
import { encodeCursor } from './export-cursor.js';
import { ExportSink } from './export-sink.js';
import { exportSqlDialects } from './export-sql.dialects.js';
import { exportResultPresenter } from './export.presenter.js';

/**
 * Pages an export has the database encode at once: one per core, up to four. The database does the
 * heavy work of an export (it builds the JSON), so this is what spreads an export over the cores.
 */
const EXPORT_PARALLELISM = Math.min(4, os.availableParallelism());

/** A channel named in the request that the file does not carry, and why. */
export interface SkippedChannel {
  cid: string;
  reason: 'soft_deleted' | 'not_found';
}

/** `exports/<app>/<task>/<attempt>/...`: each attempt writes its own object, so none can overwrite another's. */
function channelExportKey(task: TaskInvocation, version: 'v1' | 'v2'): string {
  const extension = version === 'v2' ? 'jsonl' : 'json';
  return exportFileKey({
    appId: task.appId,
    taskId: task.id,
    attempt: task.attempt,
    filename: `chatport-channels-${task.id}.${extension}`,
  });
}

/**
 * Runs one attempt of a channel export: resolves the channels (soft-deleted ones are left out unless
 * asked for; ones deleted for good since the request are left out too, both listed in the result),
 * streams the file into storage and commits it atomically. On any failure the partial write is
 * aborted, so nothing half-written is ever visible.
 */
const runChannelExport: TaskKind<ChannelExportRequest>['run'] = async ({ context, task, signal }) => {
  const request = task.payload;
  const { db, storage, clock, config } = context;
  const channels = await findChannelsByCids(
    db,
    task.appId,
    request.channels.map((c) => c.cid),
  );
  const targets: ExportTarget[] = [];
  const skipped: SkippedChannel[] = [];
  for (const selection of request.channels) {
    const channel = channels.get(selection.cid);
    if (!channel) skipped.push({ cid: selection.cid, reason: 'not_found' });
    else if (channel.deleted_at !== null && !request.includeSoftDeletedChannels) {
      skipped.push({ cid: selection.cid, reason: 'soft_deleted' });
    } else targets.push({ channel, selection });
  }

  // The high-water mark first: everything the export reads committed no later than this is covered by
  // the cursor it returns; anything later is after it (docs/reliability.md, incremental exports).
  const exportSql = exportSqlDialects[context.dialect.name];
  const started = clock.nowMicros();
  const taken = await exportSql.changes.take().execute(db);
  const mark = String(taken.rows[0]!.mark);
  const cursor = request.sinceCursor;
  if (cursor) {
    for (const target of targets)
      target.changes = { after: cursor.marks[target.channel.cid] ?? null, through: mark };
  }

  const key = channelExportKey(task, request.version);
  const write = await storage.openWrite(key);
  try {
    const sink = new ExportSink(write.stream);
    const counts = await context.dialect.readSession({ parallelism: EXPORT_PARALLELISM }, (session) =>
      writeChannelExport({
        session,
        exportSql,
        appId: task.appId,
        request,
        targets,
        sink,
        signal,
      }),
    );
    signal.throwIfAborted();
    const committed = await write.commit();
    const finished = clock.nowMicros();
    return {
      result: {
        version: request.version,
        ...counts,
        size: committed.size,
        skipped_channels: skipped,
        cursor: encodeCursor({
          app: task.appId,
          database: context.dialect.name,
          takenAt: started,
          // Channels of the cursor this export did not carry keep their marks, so it can go on.
          marks: {
            ...cursor?.marks,
            ...Object.fromEntries(targets.map((target) => [target.channel.cid, mark])),
          },
        }),
        started_at: started,
        finished_at: finished,
      },
      file: { key, expiresAt: fileExpiresAt(finished, config.retentionDays) },
    };
  } finally {
    await write.abort();
  }
};

/**
 * `POST /export_channels`: the payload is the request as parseChannelExportRequest validated it; the
 * result is presented with a download link signed afresh on every status request.
 */
export const exportChannelsTask: TaskKind<ChannelExportRequest> = {
  kind: 'export-channels',
  parsePayload: payloadParser('export-channels', ChannelExportRequest),
  run: runChannelExport,
  presentResult: exportResultPresenter,
};
