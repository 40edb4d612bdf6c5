import { Type, type Static } from 'typebox';
import { ApiError } from '../../lib/errors.js';
import { payloadParser } from '../tasks/tasks.payload.js';
import type { TaskKind } from '../tasks/tasks.types.js';
import { deleteChannel } from './channels.truncation.js';

export const DeleteChannelsPayload = Type.Object({
  /** Distinct cids, each checked by parseCid. */
  cids: Type.Array(Type.String({ minLength: 1 })),
  hardDelete: Type.Boolean(),
  /** Stream's `skip_truncate`; absent in tasks queued before it existed. */
  skipTruncate: Type.Optional(Type.Boolean()),
});
export type DeleteChannelsPayload = Static<typeof DeleteChannelsPayload>;

/** Deletes each channel in its own transaction; the result says, per cid, whether it worked. */
const runChannelDeletion: TaskKind<DeleteChannelsPayload>['run'] = async ({ context, task, signal }) => {
  const { cids, hardDelete, skipTruncate } = task.payload;
  const result: Record<string, { status: 'ok' } | { status: 'error'; error: string }> = {};
  for (const cid of cids) {
    signal.throwIfAborted();
    try {
      await deleteChannel(context, task.appId, cid, { hard: hardDelete, skipTruncate });
      result[cid] = { status: 'ok' };
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      result[cid] = { status: 'error', error: error.detail };
    }
  }
  return { result: { result } };
};

/** `POST /channels/delete`. */
export const deleteChannelsTask: TaskKind<DeleteChannelsPayload> = {
  kind: 'delete-channels',
  parsePayload: payloadParser('delete-channels', DeleteChannelsPayload),
  run: runChannelDeletion,
};
