import { Type } from 'typebox';
import type { Context } from '../../context.js';
import type { HttpApp } from '../../http/http-app.js';
import { notFound } from '../../lib/errors.js';
import { taskPresentersOf } from './tasks.kinds.js';
import { findTask } from './tasks.find.js';
import { presentTaskStatus } from './tasks.presenter.js';
import { taskStatuses, type TaskKind, type TaskStatus } from './tasks.types.js';

const TaskParams = Type.Object({ id: Type.String({ minLength: 1 }) });

// Shaped so fast-json-stringify writes it without checks: a string enum rather than a union of
// literals (which it tells apart by running a validator per value), and `result` without a `type`, so it
// is written by one JSON.stringify instead of key by key.
const TaskStatusResponse = Type.Object({
  task_id: Type.String(),
  status: Type.Unsafe<TaskStatus>({ type: 'string', enum: [...taskStatuses] }),
  created_at: Type.String(),
  updated_at: Type.String(),
  result: Type.Optional(
    Type.Unsafe<Record<string, unknown>>({
      description:
        'only when completed: an object, its fields by kind (exports: counts and a download link; channel exports also `cursor`, to pass as `since_cursor` for an incremental export)',
    }),
  ),
  progress: Type.Optional(
    Type.Unsafe<Record<string, unknown>>({
      description:
        'only while running or pending (waiting for its next attempt): an object its kind records every ' +
        'few seconds (exports: messages_done, messages_total (estimated), bytes_written, percent)',
    }),
  ),
  // Only these two fields are ever serialised, whatever the stored error holds.
  error: Type.Optional(Type.Object({ type: Type.String(), description: Type.String() })),
  duration: Type.Optional(Type.String()),
});

export interface TaskStatusRouteOptions {
  /** The route's path, with an `:id` parameter. */
  url: string;
  /** Stream's operation name, for error messages and the OpenAPI document. */
  operation: string;
  /** The kinds whose presenters render a completed task's result. */
  kinds: readonly TaskKind[];
  /**
   * True: answer only tasks of `kinds`, and any other task with 404 code 16 as if it did not exist
   * (a kind's own status route). Default false: every task of the app, of any kind.
   */
  onlyTheseKinds?: boolean;
}

/**
 * A task status route: the calling app's task by id in Stream's shape (tasks.presenter.ts);
 * another app's task, or an unknown id, is 404 code 16. Server-side only.
 */
export function registerTaskStatusRoute(
  app: HttpApp,
  context: Context,
  options: TaskStatusRouteOptions,
): void {
  const presenters = taskPresentersOf(options.kinds);
  const answers = (kind: string) => !options.onlyTheseKinds || Object.hasOwn(presenters, kind);
  app.get(
    options.url,
    {
      config: { operation: options.operation },
      schema: { params: TaskParams, response: { 200: TaskStatusResponse } },
    },
    async (request) => {
      const { id } = request.params;
      const task = await findTask(context.db, request.app.id, id);
      if (!task || !answers(task.kind)) throw notFound(`Can't find task with id ${id}`);
      return presentTaskStatus(task, presenters, { context, app: request.app });
    },
  );
}

/** `GET /tasks/{id}`: any task of the calling app, every kind, presented by the kind that declared it. */
export function registerTaskRoutes(app: HttpApp, context: Context, kinds: readonly TaskKind[]): void {
  registerTaskStatusRoute(app, context, { url: '/tasks/:id', operation: 'GetTask', kinds });
}
