import type { Context } from '../../context.js';
import { EXPORT_CHANNELS_KIND, exportChannelsHandler } from '../exports/channel-export.task.js';
import { DELETE_CHANNELS_KIND, deleteChannelsHandler } from '../channels/channels.deletion-task.js';
import { DELETE_USERS_KIND, deleteUsersHandler } from '../users/users.deletion-task.js';
import { EXPORT_USERS_KIND, exportUsersHandler } from '../user-exports/user-export.task.js';
import type { TaskHandlers } from './tasks.types.js';

/**
 * Every task kind this build can run, by kind: the registry the server's in-process worker and
 * `chatport worker` share. Each feature adds its kind here with one line, e.g.
 * `'export-channels': createExportChannelsHandler(context)`.
 */
export function buildTaskHandlers(_context: Context): TaskHandlers {
  return {
    [EXPORT_CHANNELS_KIND]: exportChannelsHandler,
    [DELETE_USERS_KIND]: deleteUsersHandler,
    [DELETE_CHANNELS_KIND]: deleteChannelsHandler,
    [EXPORT_USERS_KIND]: exportUsersHandler,
  };
}
