import { Type } from 'typebox';
import type { Context } from '../../context.js';
import type { HttpApp } from '../../http/http-app.js';
import { notFound } from '../../lib/errors.js';
import { buildTaskPresenters } from './task-presenters.js';
import { findTask } from './tasks.find.js';
import { presentTaskStatus } from './tasks.presenter.js';
import type { TaskPresenters } from './tasks.types.js';

const TaskParams = Type.Object({ id: Type.String({ minLength: 1 }) });

const TaskStatusResponse = Type.Object({
  task_id: Type.String(),
  status: Type.Union([
    Type.Literal('waiting'),
    Type.Literal('pending'),
    Type.Literal('running'),
    Type.Literal('completed'),
    Type.Literal('failed'),
  ]),
  created_at: Type.String(),
  updated_at: Type.String(),
  result: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
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
