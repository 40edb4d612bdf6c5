import { deleteChannelsTask } from './modules/channels/channels.deletion-task.js';
import { exportChannelsTask } from './modules/exports/channel-export.task.js';
import type { TaskKind } from './modules/tasks/tasks.types.js';
import { exportUsersTask } from './modules/user-exports/user-export.task.js';
import { deleteUsersTask } from './modules/users/users.deletion-task.js';

/**
 * Every kind of background task this build runs, each declared by the feature that does the work:
 * the runtime's workers run them and the status routes present their results. A feature adds its
 * kind here with one line; the task queue itself imports no feature.
 */
export const taskKinds: readonly TaskKind[] = [
  exportChannelsTask,
  exportUsersTask,
  deleteUsersTask,
  deleteChannelsTask,
];
