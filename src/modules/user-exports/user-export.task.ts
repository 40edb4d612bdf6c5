import { Type, type Static } from 'typebox';
import { ExportSink } from '../exports/export-sink.js';
import { exportResultPresenter } from '../exports/export.presenter.js';
import { fileExpiresAt } from '../retention/retention.policy.js';
import { exportFileKey } from '../storage/storage.keys.js';
import { payloadParser } from '../tasks/tasks.payload.js';
import type { TaskKind } from '../tasks/tasks.types.js';
import { ExportCheckpointer } from '../exports/export-checkpoint.js';
import { estimateUserExport } from './user-export.estimate.js';
import { writeUserBlock, type UserExportCounts } from './user-export.writer.js';

/** Most users one asynchronous export may name. */
export const MAX_EXPORT_USERS = 25;

/** The users to export, distinct, in the order the request named them. */
export const ExportUsersPayload = Type.Object({
  userIds: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: MAX_EXPORT_USERS }),
});
export type ExportUsersPayload = Static<typeof ExportUsersPayload>;

/**
 * One attempt of `POST /export/users`: every named user's block, streamed into one line-JSON file
 * that is published atomically. No size limit: memory holds a page at a time.
 */
const runUserExport: TaskKind<ExportUsersPayload>['run'] = async ({
  context,
  task,
  signal,
  saveProgress,
}) => {
  const { userIds } = task.payload;
  const { db, storage, clock, config } = context;
  const key = exportFileKey({
    appId: task.appId,
    taskId: task.id,
    attempt: task.attempt,
    filename: `chatport-users-${task.id}.jsonl`,
  });
  const started = clock.nowMicros();
  const write = await storage.openWrite(key);
  let progress: ExportCheckpointer | undefined;
  try {
    const sink = new ExportSink(write.stream);
    const counts: UserExportCounts = { users: 0, members: 0, channel_mutes: 0, messages: 0, reactions: 0 };
    const skipped: Array<{ user_id: string; reason: 'not_found' }> = [];
    let messagesTotal = 0;
    for (const user of (await estimateUserExport(db, task.appId, userIds, { sample: false })).users)
      messagesTotal += user.messages;
    // Progress only: a user export starts over when its worker dies (it is small beside channel exports).
    const tracker = new ExportCheckpointer({
      clock,
      everyMillis: config.exportCheckpointMillis,
      save: saveProgress,
      start: { key, write, position: null, counts: { ...counts }, bytes: 0, skip: 0, resumed: undefined },
      targets: userIds,
      messagesTotal,
      done: (current) => current.messages ?? 0,
      resumable: false,
    });
    progress = tracker;
    for (const userId of userIds) {
      const written = await writeUserBlock(db, task.appId, userId, sink, counts, signal, {
        onSection: (_section, current, bytes) => tracker.reached(undefined, { ...current }, bytes),
      });
      if (!written) skipped.push({ user_id: userId, reason: 'not_found' });
    }
    await sink.flush();
    await tracker.finish();
    signal.throwIfAborted();
    const committed = await write.commit();
    const finished = clock.nowMicros();
    return {
      result: {
        ...counts,
        size: committed.size,
        skipped_users: skipped,
        started_at: started,
        finished_at: finished,
      },
      file: { key, expiresAt: fileExpiresAt(finished, config.retentionDays) },
    };
  } finally {
    // A progress record still being written would land after this attempt has ended: wait for it, as
    // the channel export does, so no attempt's record outlives it.
    await progress?.finish().catch(() => undefined);
    await write.abort();
  }
};

/** `POST /export/users`: one line-JSON file, presented with a freshly signed download link. */
export const exportUsersTask: TaskKind<ExportUsersPayload> = {
  kind: 'export-users',
  parsePayload: payloadParser('export-users', ExportUsersPayload),
  run: runUserExport,
  presentResult: exportResultPresenter,
};
