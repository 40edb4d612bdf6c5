import { Type } from 'typebox';
import type { MessageRow, ReactionRow } from '../../database/database.types.js';
import type { Context } from '../../context.js';
import type { HttpApp } from '../../http/http-app.js';
import type { ApiForm } from '../../lib/shapes/shape.js';
import { clientOnlyFields, closedObject, handledFields, refusedFields } from '../../lib/request-fields.js';
import { presentMessage } from '../messages/messages.presenter.js';
import { MessageParams } from '../messages/messages.schemas.js';
import { findUsersByIds } from '../users/users.repository.js';
import { userLookup } from '../users/users.presenter.js';
import { presentReaction } from './reactions.presenter.js';
import { deleteReaction, listReactions, sendReaction } from './reactions.usecases.js';

/** Any name chatport does not know is the reaction's custom data; its times are the server's. */
const SendReactionBody = closedObject({
  reaction: Type.Object(
    {
      type: Type.String(),
      ...handledFields('score', 'user', 'user_id', 'custom'),
      ...refusedFields('created_at', 'updated_at'),
    },
    { additionalProperties: true },
  ),
  enforce_unique: Type.Optional(Type.Boolean()),
  ...clientOnlyFields('skip_push'),
});
const ReactionParams = Type.Object({
  id: Type.String({ minLength: 1 }),
  type: Type.String({ minLength: 1 }),
});
const DeleteReactionQuery = Type.Object({ user_id: Type.Optional(Type.String()) });
const ListReactionsQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 300 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
});

/** `form`: the API generation answering (v1 at the root, v2 under `/api/v2/chat`). */
export function registerReactionRoutes(app: HttpApp, context: Context, form: ApiForm): void {
  const { db } = context;
  const own = (caller: { kind: string; userId?: string }) =>
    caller.kind === 'user' ? caller.userId : undefined;
  /** The response to a reaction sent or deleted: the message as it is now, and the reaction. */
  const presentChange = async (
    appId: number,
    caller: { kind: string; userId?: string },
    message: MessageRow,
    reaction: ReactionRow,
  ) => {
    const users = await findUsersByIds(db, appId, [reaction.user_id]);
    return {
      message: await presentMessage(db, appId, message, { ownUserId: own(caller), form }),
      reaction: presentReaction(reaction, userLookup(users, form), form),
    };
  };

  app.post(
    '/messages/:id/reaction',
    {
      schema: { params: MessageParams, body: SendReactionBody },
      config: { operation: 'SendReaction', access: 'user' },
    },
    async (request) => {
      const appId = request.app.id;
      const { message, reaction } = await sendReaction(
        context,
        appId,
        request.caller,
        request.params.id,
        request.body.reaction,
        request.body.enforce_unique ?? false,
      );
      return presentChange(appId, request.caller, message, reaction);
    },
  );

  app.delete(
    '/messages/:id/reaction/:type',
    {
      schema: { params: ReactionParams, querystring: DeleteReactionQuery },
      config: { operation: 'DeleteReaction', access: 'user' },
    },
    async (request) => {
      const appId = request.app.id;
      const { message, reaction } = await deleteReaction(
        context,
        appId,
        request.caller,
        request.params.id,
        request.params.type,
        request.query.user_id,
      );
      return presentChange(appId, request.caller, message, reaction);
    },
  );

  app.get(
    '/messages/:id/reactions',
    {
      schema: { params: MessageParams, querystring: ListReactionsQuery },
      config: { operation: 'GetReactions' },
    },
    async (request) => {
      const appId = request.app.id;
      const rows = await listReactions(
        db,
        appId,
        request.params.id,
        request.query.limit ?? 25,
        request.query.offset ?? 0,
      );
      const users = await findUsersByIds(
        db,
        appId,
        rows.map((r) => r.user_id),
      );
      const user = userLookup(users, form);
      return { reactions: rows.map((r) => presentReaction(r, user, form)) };
    },
  );
}
