import type { HttpApp } from './http-app.js';
import type { Context } from '../context.js';
import { apiGenerations } from './api-generations.js';
import { registerHealthRoutes } from '../modules/health/health.routes.js';
import { registerDownloadRoutes } from '../modules/downloads/downloads.routes.js';
import { registerTaskRoutes } from '../modules/tasks/tasks.routes.js';
import { registerUserRoutes } from '../modules/users/users.routes.js';
import { registerChannelRoutes } from '../modules/channels/channels.routes.js';
import { registerChannelTypeRoutes } from '../modules/channel-types/channel-types.routes.js';
import { registerMembershipRoutes } from '../modules/channels/channels.membership.routes.js';
import { registerMessageRoutes } from '../modules/messages/messages.routes.js';
import { registerReactionRoutes } from '../modules/reactions/reactions.routes.js';
import { registerUserExportRoutes } from '../modules/user-exports/user-export.routes.js';
import { registerExportRoutes } from '../modules/exports/exports.routes.js';
import { registerAppRoutes } from '../modules/apps/apps.routes.js';
import { registerWebhookRoutes } from '../modules/webhooks/webhooks.routes.js';
import { taskKinds } from '../task-kinds.js';

/**
 * Every route module, in one place: the layout of the API at a glance. Stream's API routes are
 * registered once per API generation (api-generations.ts), under its prefixes, answering in its form.
 */
export async function registerRoutes(app: HttpApp, context: Context): Promise<void> {
  registerHealthRoutes(app, context);
  registerDownloadRoutes(app, context);
  for (const { form, commonPrefix, chatPrefix } of apiGenerations) {
    await app.register(
      async (common: HttpApp) => {
        registerTaskRoutes(common, context, taskKinds);
        registerUserRoutes(common, context, form);
        registerUserExportRoutes(common, context, form);
        registerAppRoutes(common, context);
        registerWebhookRoutes(common, context);
      },
      { prefix: commonPrefix },
    );
    await app.register(
      async (chat: HttpApp) => {
        registerChannelRoutes(chat, context, form);
        registerChannelTypeRoutes(chat, context);
        registerMembershipRoutes(chat, context, form);
        registerMessageRoutes(chat, context, form);
        registerReactionRoutes(chat, context, form);
        registerExportRoutes(chat, context, form);
      },
      { prefix: chatPrefix },
    );
  }
}
