import type { HttpApp } from './http-app.js';
import type { Context } from '../context.js';
import { registerHealthRoutes } from '../modules/health/health.routes.js';
import { registerDownloadRoutes } from '../modules/downloads/downloads.routes.js';
import { registerTaskRoutes } from '../modules/tasks/tasks.routes.js';
import { registerUserRoutes } from '../modules/users/users.routes.js';
import { registerChannelRoutes } from '../modules/channels/channels.routes.js';
import { registerMessageRoutes } from '../modules/messages/messages.routes.js';
import { registerReactionRoutes } from '../modules/reactions/reactions.routes.js';
import { registerUserExportRoutes } from '../modules/user-exports/user-export.routes.js';
import { registerExportRoutes } from '../modules/exports/exports.routes.js';
import { taskKinds } from '../task-kinds.js';

/** Every route module, in one place: the layout of the API at a glance. */
export async function registerRoutes(app: HttpApp, context: Context): Promise<void> {
  registerHealthRoutes(app, context);
  registerDownloadRoutes(app, context);
  registerTaskRoutes(app, context, taskKinds);
  registerUserRoutes(app, context, 'v1');
  registerChannelRoutes(app, context, 'v1');
  registerMessageRoutes(app, context, 'v1');
  registerReactionRoutes(app, context, 'v1');
  registerUserExportRoutes(app, context, 'v1');
  registerExportRoutes(app, context, 'v1');
}
