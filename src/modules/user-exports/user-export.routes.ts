import { Type } from 'typebox';
import type { Context } from '../../context.js';
import type { HttpApp } from '../../http/http-app.js';
import { exportUserSync } from './user-export.usecases.js';

const UserParams = Type.Object({ id: Type.String({ minLength: 1 }) });
// The SDK sends exportUser's options as query params; none changes the export today (docs/exports.md).
const ExportUserQuery = Type.Object({}, { additionalProperties: true });

export function registerUserExportRoutes(app: HttpApp, context: Context): void {
  app.get(
    '/users/:id/export',
    { schema: { params: UserParams, querystring: ExportUserQuery }, config: { operation: 'ExportUser' } },
    async (request) => exportUserSync(context.db, request.app.id, request.params.id),
  );
}
