import os from 'node:os';
import { fileExpiresAt } from '../retention/retention.policy.js';
import { exportFileKey } from '../storage/storage.keys.js';
import { payloadParser } from '../tasks/tasks.payload.js';
import type { TaskInvocation, TaskKind } from '../tasks/tasks.types.js';
import { ChannelExportRequest } from './channel-export.request.js';
import { countMessages, MESSAGE_PAGE_SIZE } from './channel-export.source.js';
import { resolveTargets, scopeOf } from './channel-export.targets.js';
import { writeChannelExport, type ExportCounts } from './channel-export.writer.js';
import { ExportCheckpointer, openExportWrite, resumedFields } from './export-checkpoint.js';
import { encodeCursor } from './export-cursor.js';
import { ExportSink } from './export-sink.js';
import { exportSqlDialects } from './export-sql.dialects.js';
import { exportResultPresenter } from './export.presenter.js';

/**
 * Pages an export has the database encode at once: one per core, up to four. The database does the
 * heavy work of an export (it builds the JSON), so this is what spreads an export over the cores.
 */
const EXPORT_PARALLELISM = Math.min(4, os.availableParallelism());

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
 * aborted, so nothing half-written is ever visible, unless a checkpoint names it: then the next
 * attempt carries on writing it from there (export-checkpoint.ts). Progress is recorded with the
 * checkpoints. An incremental export (`since_cursor`) records progress but no checkpoint: it starts
 * over when its worker dies (it carries only what changed, and its tombstones have no position).
 */
const runChannelExport: TaskKind<ChannelExportRequest>['run'] = async ({
  context,
  task,
  signal,
  saveProgress,
}) => {
  const request = task.payload;
  const { db, storage, clock, config } = context;
  const { targets, skipped } = await resolveTargets(db, task.appId, request);

  const exportSql = exportSqlDialects[context.dialect.name];
  const started = clock.nowMicros();
  const cids = targets.map((target) => target.channel.cid);
  const cursor = request.sinceCursor;
  const start = await openExportWrite<ExportCounts>({
    storage,
    checkpoint: cursor ? undefined : task.checkpoint,
    targets: cids,
    freshKey: channelExportKey(task, request.version),
    zero: { channels: 0, members: 0, channel_mutes: 0, messages: 0, reactions: 0, users: 0 },
  });
  const { key, write } = start;
  // The high-water mark first: everything the export reads committed no later than this is covered by
  // the cursor it returns; anything later is after it (docs/reliability.md, incremental exports). A
  // resumed export keeps the mark its first attempt took, as the pages written then were read after it.
  const mark = start.resumed?.mark ?? String((await exportSql.changes.take().execute(db)).rows[0]!.mark);
  if (cursor) {
    for (const target of targets)
      target.changes = { after: cursor.marks[target.channel.cid] ?? null, through: mark };
  }
  let checkpointer: ExportCheckpointer | undefined;
  try {
    const sink = new ExportSink(write.stream, { offset: start.bytes, skip: start.skip });
    const counts = await context.dialect.readSession({ parallelism: EXPORT_PARALLELISM }, async (session) => {
      let messagesTotal = 0;
      for (const target of targets)
        messagesTotal += await countMessages(
          session.db,
          scopeOf(task.appId, target, request, exportSql.changes),
        );
      // An export of more than a page encodes its pages on all of the session's connections: those
      // slow to start do so while the head of the file is written, not when the first page needs them.
      if (messagesTotal > MESSAGE_PAGE_SIZE) session.startAll();
      const tracker = new ExportCheckpointer({
        clock,
        everyMillis: config.exportCheckpointMillis,
        save: saveProgress,
        start,
        targets: cids,
        messagesTotal,
        done: (counts) => counts.messages ?? 0,
        resumable: !cursor,
        mark,
      });
      checkpointer = tracker;
      return writeChannelExport({
        session,
        exportSql,
        appId: task.appId,
        request,
        targets,
        sink,
        signal,
        resume: start.resumed ? { position: start.position, counts: start.counts } : undefined,
        onPage: (position, counts, bytes) => tracker.reached(position, counts, bytes),
      });
    });
    await checkpointer?.finish();
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
        ...resumedFields(start, counts.messages),
      },
      file: { key, expiresAt: fileExpiresAt(finished, config.retentionDays) },
    };
  } finally {
    // A checkpoint names this write's temporary: keep it for the attempt that will resume from it.
    await checkpointer?.finish().catch(() => undefined);
    if (start.resumed || checkpointer?.saved) await write.detach();
    else await write.abort();
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
