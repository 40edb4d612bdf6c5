import { UnrecoverableError } from '../../lib/errors.js';
import { isPlainObject } from '../../lib/json.js';
import { MICROS_PER_DAY } from '../../lib/time.js';
import { ExportSink } from '../exports/export-sink.js';
import { exportFileKey } from '../storage/storage.keys.js';
import type { TaskHandler } from '../tasks/tasks.types.js';
import { writeUserBlock, type UserExportCounts } from './user-export.writer.js';

export const EXPORT_USERS_KIND = 'export-users';

/** Most users one asynchronous export may name. */
export const MAX_EXPORT_USERS = 25;

export interface ExportUsersPayload {
  userIds: string[];
}

/**
 * One attempt of `POST /export/users`: every named user's block, streamed into one line-JSON file
 * that is published atomically. No size limit: memory holds a page at a time.
 */
export const exportUsersHandler: TaskHandler = async ({ context, task, signal }) => {
  const payload = task.payload;
  if (
    !isPlainObject(payload) ||
    !Array.isArray(payload.userIds) ||
    !payload.userIds.every((id) => typeof id === 'string')
  ) {
    throw new UnrecoverableError('the task has no valid export-users request', 'invalid_payload');
  }
  const { userIds } = payload as unknown as ExportUsersPayload;
  const { db, storage, clock, config } = context;
  const key = exportFileKey({
    appId: task.appId,
    taskId: task.id,
    attempt: task.attempt,
    filename: `chatport-users-${task.id}.jsonl`,
  });
  const started = clock.nowMicros();
  const write = await storage.openWrite(key);
  try {
    const sink = new ExportSink(write.stream);
    const counts: UserExportCounts = { users: 0, members: 0, messages: 0, reactions: 0 };
    const skipped: Array<{ user_id: string; reason: 'not_found' }> = [];
    for (const userId of userIds) {
      if (!(await writeUserBlock(db, task.appId, userId, sink, counts, signal))) {
        skipped.push({ user_id: userId, reason: 'not_found' });
      }
    }
    await sink.flush();
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
      file: { key, expiresAt: finished + config.retentionDays * MICROS_PER_DAY },
    };
  } finally {
    await write.abort();
  }
};
