import { Type } from 'typebox';
import { closedObject } from '../../lib/request-fields.js';
import type { Context } from '../../context.js';
import type { HttpApp } from '../../http/http-app.js';
import type { ApiForm } from '../../lib/shapes/shape.js';
import { notFound } from '../../lib/errors.js';
import { missingUserIds } from '../users/users.repository.js';
import { submitTask } from '../tasks/tasks.submit.js';
import { exportUsersTask, MAX_EXPORT_USERS, type ExportUsersPayload } from './user-export.task.js';
import { estimateUserExport, UserExportDryRun } from './user-export.estimate.js';
import { exportUserSync } from './user-export.usecases.js';

const UserParams = Type.Object({ id: Type.String({ minLength: 1 }) });
// The SDK sends exportUser's options as query params; none changes the export today (docs/exports.md).
const ExportUserQuery = Type.Object({}, { additionalProperties: true });
const ExportUsersBody = closedObject({
  user_ids: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: MAX_EXPORT_USERS }),
  dry_run: Type.Optional(
    Type.Boolean({
      description:
        'true: validate as usual, then answer at once with counts per user and the estimated file ' +
        'size; no task, no file',
    }),
  ),
});
const ExportUsersResponse = Type.Union([
  Type.Object({ task_id: Type.String(), duration: Type.Optional(Type.String()) }),
  UserExportDryRun,
]);

/** `form`: the API generation answering (v1 at the root, v2 under `/api/v2`). */
export function registerUserExportRoutes(app: HttpApp, context: Context, form: ApiForm): void {
  app.get(
    '/users/:id/export',
    { schema: { params: UserParams, querystring: ExportUserQuery }, config: { operation: 'ExportUser' } },
    async (request) => exportUserSync(context.db, request.app.id, request.params.id, form),
  );

  /** Any number of messages and reactions: a task writes one line-JSON file (docs/exports.md). */
  app.post(
    '/export/users',
    {
      schema: { body: ExportUsersBody, response: { 201: ExportUsersResponse } },
      config: { operation: 'ExportUsers' },
    },
    async (request) => {
      const userIds = [...new Set(request.body.user_ids)];
      const missing = await missingUserIds(context.db, request.app.id, userIds);
      if (missing.length > 0) throw notFound(`users do not exist: ${missing.join(', ')}`);
      if (request.body.dry_run === true) return estimateUserExport(context.db, request.app.id, userIds);
      const payload: ExportUsersPayload = { userIds };
      const task = await submitTask(context, exportUsersTask, { appId: request.app.id, payload });
      return { task_id: task.id };
    },
  );
}
