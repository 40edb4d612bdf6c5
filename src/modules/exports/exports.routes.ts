import { Type } from 'typebox';
import type { Context } from '../../context.js';
import type { HttpApp } from '../../http/http-app.js';
import { inputError, notFound } from '../../lib/errors.js';
import { findChannelsByCids } from '../channels/channels.repository.js';
import { buildTaskPresenters } from '../tasks/task-presenters.js';
import { enqueueTask } from '../tasks/tasks.enqueue.js';
import { findTask } from '../tasks/tasks.find.js';
import { presentTaskStatus } from '../tasks/tasks.presenter.js';
import { parseChannelExportRequest } from './channel-export.request.js';
import { EXPORT_CHANNELS_KIND } from './channel-export.task.js';

const Timestamp = Type.Union([Type.String(), Type.Null()]);
const ChannelEntry = Type.Object(
  {
    type: Type.Optional(Type.String()),
    id: Type.Optional(Type.String()),
    cid: Type.Optional(Type.String()),
    messages_since: Type.Optional(Timestamp),
    messages_until: Type.Optional(Timestamp),
  },
  { additionalProperties: true },
);
const ExportChannelsBody = Type.Object(
  {
    channels: Type.Array(ChannelEntry),
    version: Type.Optional(Type.String()),
    include_truncated_messages: Type.Optional(Type.Boolean()),
    include_soft_deleted_channels: Type.Optional(Type.Boolean()),
    export_users: Type.Optional(Type.Boolean()),
    clear_deleted_message_text: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
);
const TaskParams = Type.Object({ id: Type.String({ minLength: 1 }) });

export function registerExportRoutes(app: HttpApp, context: Context): void {
  const presenters = buildTaskPresenters(context);

  /**
   * Validates the whole request, refuses channels that do not exist (400 code 4 naming them), and
   * queues the export: the answer comes at once, the file later.
   */
  app.post(
    '/export_channels',
    { schema: { body: ExportChannelsBody }, config: { operation: 'ExportChannels' } },
    async (request) => {
      const exportRequest = parseChannelExportRequest(request.body);
      const found = await findChannelsByCids(
        context.db,
        request.app.id,
        exportRequest.channels.map((c) => c.cid),
      );
      exportRequest.channels.forEach((selection, index) => {
        if (!found.has(selection.cid))
          throw inputError(`channels.${index}`, `channel ${selection.cid} does not exist`);
      });
      const task = await enqueueTask(context.db, context.clock, {
        appId: request.app.id,
        kind: EXPORT_CHANNELS_KIND,
        payload: exportRequest,
      });
      return { task_id: task.id };
    },
  );

  app.get(
    '/export_channels/:id',
    { schema: { params: TaskParams }, config: { operation: 'GetExportChannelsStatus' } },
    async (request) => {
      const task = await findTask(context.db, request.app.id, request.params.id);
      if (!task || task.kind !== EXPORT_CHANNELS_KIND)
        throw notFound(`Can't find task with id ${request.params.id}`);
      return presentTaskStatus(task, presenters, { context, app: request.app });
    },
  );
}
