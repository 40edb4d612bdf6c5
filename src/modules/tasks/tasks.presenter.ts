import { isPlainObject, parseObject } from '../../lib/json.js';
import { formatMicros } from '../../lib/time.js';
import type {
  TaskError,
  TaskPresentation,
  TaskPresenter,
  TaskPresenters,
  TaskStatus,
  TaskStatusRow,
} from './tasks.types.js';

/** The body of `GET /tasks/{id}` (and of the export status route), before the global `duration`. */
export interface TaskStatusBody {
  task_id: string;
  status: TaskStatus;
  created_at: string;
  updated_at: string;
  /** Only when completed. */
  result?: Record<string, unknown>;
  /** Only when failed. */
  error?: TaskError;
}

/** Serves the stored result JSON as it is. */
export const storedResultPresenter: TaskPresenter = (task) => parseObject(task.result);

/** The client's part of the stored error: type and description, never the internal detail. */
export function presentTaskError(task: Pick<TaskStatusRow, 'error'>): TaskError {
  const stored = task.error ? parseObject(task.error) : {};
  return {
    type: typeof stored.type === 'string' ? stored.type : 'internal',
    description: typeof stored.description === 'string' ? stored.description : 'the task failed',
  };
}

/**
 * Renders a task's status in Stream's shape. A completed task's `result` comes from the presenter of
 * its kind (default: the stored result), called on every request so it can re-sign links.
 */
export async function presentTaskStatus(
  task: TaskStatusRow,
  presenters: TaskPresenters,
  presentation: TaskPresentation,
): Promise<TaskStatusBody> {
  const status = task.status as TaskStatus;
  const body: TaskStatusBody = {
    task_id: task.id,
    status,
    created_at: formatMicros(task.created_at),
    updated_at: formatMicros(task.updated_at),
  };
  if (status === 'completed') {
    const presenter = Object.hasOwn(presenters, task.kind) ? presenters[task.kind] : undefined;
    const result = await (presenter ?? storedResultPresenter)(task, presentation);
    body.result = isPlainObject(result) ? result : {};
  } else if (status === 'failed') {
    body.error = presentTaskError(task);
  }
  return body;
}
