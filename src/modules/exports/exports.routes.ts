import { Type } from 'typebox';
import type { Context } from '../../context.js';
import type { HttpApp } from '../../http/http-app.js';
import { inputError } from '../../lib/errors.js';
import { closedObject } from '../../lib/request-fields.js';
import type { ApiForm } from '../../lib/shapes/shape.js';
import { findChannelsByCids } from '../channels/channels.repository.js';
import { submitTask } from '../tasks/tasks.submit.js';
import { registerTaskStatusRoute } from '../tasks/tasks.routes.js';
import { ChannelExportDryRun, estimateChannelExport } from './channel-export.estimate.js';
import { parseChannelExportRequest } from './channel-export.request.js';
import { exportChannelsTask } from './channel-export.task.js';
import { cursorProblem } from './export-cursor.js';
import { exportSqlDialects } from './export-sql.dialects.js';
import { cursorHorizonMicros } from '../retention/retention.policy.js';

const Timestamp = Type.Union([Type.String(), Type.Null()]);
const ChannelEntry = closedObject({
  type: Type.Optional(Type.String()),
  id: Type.Optional(Type.String()),
  cid: Type.Optional(Type.String()),
  messages_since: Type.Optional(Timestamp),
  messages_until: Type.Optional(Timestamp),
});
const ExportChannelsBody = closedObject({
  channels: Type.Array(ChannelEntry),
  version: Type.Optional(Type.String()),
  include_truncated_messages: Type.Optional(Type.Boolean()),
  include_soft_deleted_channels: Type.Optional(Type.Boolean()),
  export_users: Type.Optional(Type.Boolean()),
  clear_deleted_message_text: Type.Optional(Type.Boolean()),
  dry_run: Type.Optional(
    Type.Boolean({
      description:
        'true: validate as usual, then answer at once with counts per channel and the estimated file ' +
        'size; no task, no file. Not with since_cursor.',
    }),
  ),
  since_cursor: Type.Optional(
    Type.Union([Type.String(), Type.Null()], {
      description:
        "chatport's addition: the `cursor` of a completed channel export; this export then holds only what changed after it (docs/exports.md, incremental exports)",
    }),
  ),
});
const ExportChannelsResponse = Type.Union([
  Type.Object({ task_id: Type.String(), duration: Type.Optional(Type.String()) }),
  ChannelExportDryRun,
]);

/** `form`: the API generation (v2 has no export status route: its SDK polls `GET /tasks/{id}`). */
export function registerExportRoutes(app: HttpApp, context: Context, form: ApiForm): void {
  /**
   * Validates the whole request, refuses channels that do not exist (400 code 4 naming them), and
   * queues the export: the answer comes at once, the file later. A dry run answers the counts and the
   * estimated size instead, after the same checks.
   */
  app.post(
    '/export_channels',
    {
      schema: { body: ExportChannelsBody, response: { 201: ExportChannelsResponse } },
      config: { operation: 'ExportChannels' },
    },
    async (request) => {
      const exportRequest = parseChannelExportRequest(request.body);
      if (exportRequest.sinceCursor) {
        const problem = cursorProblem(exportRequest.sinceCursor, {
          appId: request.app.id,
          database: context.dialect.name,
          isMark: exportSqlDialects[context.dialect.name].changes.isMark,
          nowMicros: context.clock.nowMicros(),
          horizonMicros: cursorHorizonMicros(context.config.retentionDays),
        });
        if (problem) throw inputError('since_cursor', problem);
      }
      const found = await findChannelsByCids(
        context.db,
        request.app.id,
        exportRequest.channels.map((c) => c.cid),
      );
      exportRequest.channels.forEach((selection, index) => {
        if (!found.has(selection.cid))
          throw inputError(`channels.${index}`, `channel ${selection.cid} does not exist`);
      });
      if (request.body.dry_run === true) {
        // The estimate counts whole channels: it cannot tell what an incremental export would carry.
        if (exportRequest.sinceCursor)
          throw inputError('dry_run', 'dry_run cannot be combined with since_cursor');
        return estimateChannelExport(context, request.app.id, exportRequest);
      }
      const task = await submitTask(context, exportChannelsTask, {
        appId: request.app.id,
        payload: exportRequest,
      });
      return { task_id: task.id };
    },
  );

  if (form !== 'v1') return;
  // Stream's status route for channel exports: the task status route, answering only this kind.
  registerTaskStatusRoute(app, context, {
    url: '/export_channels/:id',
    operation: 'GetExportChannelsStatus',
    kinds: [exportChannelsTask],
    onlyTheseKinds: true,
  });
}
