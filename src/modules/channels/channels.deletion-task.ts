import { ApiError, UnrecoverableError } from '../../lib/errors.js';
import { isPlainObject } from '../../lib/json.js';
import type { TaskHandler } from '../tasks/tasks.types.js';
import { deleteChannel } from './channels.usecases.js';

export const DELETE_CHANNELS_KIND = 'delete-channels';

export interface DeleteChannelsPayload {
  cids: string[];
  hardDelete: boolean;
}

/** Deletes each channel in its own transaction; the result says, per cid, whether it worked. */
export const deleteChannelsHandler: TaskHandler = async ({ context, task, signal }) => {
  const payload = task.payload;
  if (!isPlainObject(payload) || !Array.isArray(payload.cids)) {
    throw new UnrecoverableError('the task has no valid delete-channels request', 'invalid_payload');
  }
  const { cids, hardDelete } = payload as unknown as DeleteChannelsPayload;
  const result: Record<string, { status: 'ok' } | { status: 'error'; error: string }> = {};
  for (const cid of cids) {
    signal.throwIfAborted();
    try {
      await deleteChannel(context, task.appId, cid, hardDelete);
      result[cid] = { status: 'ok' };
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      result[cid] = { status: 'error', error: error.detail };
    }
  }
  return { result: { result } };
};
