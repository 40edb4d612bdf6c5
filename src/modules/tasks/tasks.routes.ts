import { Type } from 'typebox';
import type { Context } from '../../context.js';
import type { HttpApp } from '../../http/http-app.js';
import { notFound } from '../../lib/errors.js';
import { buildTaskPresenters } from './task-presenters.js';
import { findTask } from './tasks.find.js';
import { presentTaskStatus } from './tasks.presenter.js';
import { taskStatuses, type TaskPresenters, type TaskStatus } from './tasks.types.js';

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
      description: 'only when completed: an object, its fields by kind (exports: counts and a download link)',
    }),
  ),
  // Only these two fields are ever serialised, whatever the stored error holds.
  error: Type.Optional(Type.Object({ type: Type.String(), description: Type.String() })),
  duration: Type.Optional(Type.String()),
});

/** `GET /tasks/{id}`: any task of the calling app, every kind; server-side only. */
export function registerTaskRoutes(
  app: HttpApp,
  context: Context,
  presenters: TaskPresenters = buildTaskPresenters(context),
): void {
  app.get(
    '/tasks/:id',
    {
      config: { operation: 'GetTask' },
      schema: { params: TaskParams, response: { 200: TaskStatusResponse } },
    },
    async (request) => {
      const { id } = request.params;
      const task = await findTask(context.db, request.app.id, id);
      if (!task) throw notFound(`Can't find task with id ${id}`);
      return presentTaskStatus(task, presenters, { context, app: request.app });
    },
  );
}
