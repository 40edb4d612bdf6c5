import { defineShape } from '../../lib/shapes/shape.js';
import type { TaskStatusRow } from './tasks.types.js';

/**
 * The body of a task status (Stream's GetTaskResponse), the same in both API generations: `result`
 * only when completed, `error` only when failed, `progress` only while the task is at work, as the
 * status presenter supplies them.
 */
export const taskStatusShape = defineShape<TaskStatusRow>({
  name: 'task status',
  fields: [
    { name: 'task_id', column: 'id', kind: 'string' },
    { name: 'status', kind: 'string' },
    { name: 'created_at', kind: 'time' },
    { name: 'updated_at', kind: 'time' },
    { name: 'result', supplied: true, optional: true },
    { name: 'error', supplied: true, optional: true },
    { name: 'progress', supplied: true, optional: true },
  ],
});
