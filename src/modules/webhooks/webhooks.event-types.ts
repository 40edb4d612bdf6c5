import { exportChannelsTask } from '../exports/channel-export.task.js';
import { exportUsersTask } from '../user-exports/user-export.task.js';

/**
 * The events chatport sends, Stream's names for the end of an asynchronous export: the one list that
 * the webhook settings accept and the end hook announces. Each task kind maps to its event prefix.
 */
export const exportEventPrefixes: Readonly<Record<string, string>> = {
  [exportChannelsTask.kind]: 'export.channels',
  [exportUsersTask.kind]: 'export.users',
};

/** `<prefix>.success` and `<prefix>.error` of every export kind. */
export const webhookEventTypes: readonly string[] = Object.values(exportEventPrefixes).flatMap((prefix) => [
  `${prefix}.success`,
  `${prefix}.error`,
]);

/** Whether a target subscribed to `subscribed` (empty: every type) gets events of `type`. */
export function subscribesTo(subscribed: readonly string[], type: string): boolean {
  return subscribed.length === 0 || subscribed.includes(type);
}
