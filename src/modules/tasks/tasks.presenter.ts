import { isPlainObject, parseObject } from '../../lib/json.js';
import { objectPresenter } from '../../lib/shapes/shape-object.js';
import { taskStatusShape } from './tasks.shape.js';
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
  /** Only while running or waiting for the next attempt, once the kind recorded some. */
  progress?: Record<string, unknown>;
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

const presentStatus = objectPresenter(taskStatusShape, 'v1');

/**
 * Renders a task's status in Stream's shape. A completed task's `result` comes from the presenter of
 * its kind (default: the stored result), called on every request so it can re-sign links. A task
 * still at work shows its last recorded `progress` as it was stored (its fields are the kind's).
 */
export async function presentTaskStatus(
  task: TaskStatusRow,
  presenters: TaskPresenters,
  presentation: TaskPresentation,
): Promise<TaskStatusBody> {
  const status = task.status as TaskStatus;
  let result: Record<string, unknown> | undefined;
  let error: TaskError | undefined;
  if (status === 'completed') {
    const presenter = Object.hasOwn(presenters, task.kind) ? presenters[task.kind] : undefined;
    const presented = await (presenter ?? storedResultPresenter)(task, presentation);
    result = isPlainObject(presented) ? presented : {};
  } else if (status === 'failed') {
    error = presentTaskError(task);
  }
  const progress =
    (status === 'running' || status === 'pending') && task.progress !== null
      ? parseObject(task.progress)
      : undefined;
  return presentStatus(task, { values: { result, error, progress } }) as unknown as TaskStatusBody;
}
