import { deleteChannelsTask } from './modules/channels/channels.deletion-task.js';
import { exportChannelsTask } from './modules/exports/channel-export.task.js';
import type { TaskEndHook, TaskKind } from './modules/tasks/tasks.types.js';
import { exportUsersTask } from './modules/user-exports/user-export.task.js';
import { deleteUsersTask } from './modules/users/users.deletion-task.js';
import { webhookDeliveryTask } from './modules/webhooks/webhooks.delivery-task.js';
import { exportWebhookEvents } from './modules/webhooks/webhooks.events.js';

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
  webhookDeliveryTask,
];

/** Work features do in the transaction that ends a task of the kinds they watch (see TaskEndHook). */
export const taskEndHooks: readonly TaskEndHook[] = [exportWebhookEvents];
