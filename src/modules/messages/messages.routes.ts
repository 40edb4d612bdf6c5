import type { Context } from '../../context.js';
import type { HttpApp } from '../../http/http-app.js';
import type { ApiForm } from '../../lib/shapes/shape.js';
import { inputError } from '../../lib/errors.js';
import { ChannelParams } from '../channels/channels.schemas.js';
import { userIdOf } from './messages.models.js';
import { presentMessage, presentMessages } from './messages.presenter.js';
import { findMessage, threadReplyPage } from './messages.repository.js';
import {
  DeleteMessageQuery,
  MessageParams,
  PartialUpdateMessageBody,
  RepliesQuery,
  SendMessageBody,
  UndeleteMessageBody,
  UpdateMessageBody,
} from './messages.schemas.js';
import {
  deleteMessage,
  getMessage,
  partialUpdateMessage,
  storeMessage,
  undeleteMessage,
  updateMessage,
} from './messages.usecases.js';

function ownUserId(caller: { kind: string; userId?: string }): string | undefined {
  return caller.kind === 'user' ? caller.userId : undefined;
}

/** `form`: the API generation answering (v1 at the root, v2 under `/api/v2/chat`). */
export function registerMessageRoutes(app: HttpApp, context: Context, form: ApiForm): void {
  const { db } = context;
  const presentation = (caller: { kind: string; userId?: string }) => ({
    ownUserId: ownUserId(caller),
    form,
  });

  app.post(
    '/channels/:type/:id/message',
    {
      schema: { params: ChannelParams, body: SendMessageBody },
      config: { operation: 'SendMessage', access: 'user' },
    },
    async (request) => {
      const cid = `${request.params.type}:${request.params.id}`;
      const { row, users } = await storeMessage(
        context,
        request.app.id,
        request.caller,
        cid,
        request.body.message,
      );
      return {
        message: await presentMessage(db, request.app.id, row, {
          ...presentation(request.caller),
          knownUsers: users,
        }),
      };
    },
  );

  app.get(
    '/messages/:id',
    { schema: { params: MessageParams }, config: { operation: 'GetMessage' } },
    async (request) => {
      const row = await getMessage(db, request.app.id, request.params.id);
      return { message: await presentMessage(db, request.app.id, row, { form }) };
    },
  );

  app.post(
    '/messages/:id',
    {
      schema: { params: MessageParams, body: UpdateMessageBody },
      config: { operation: 'UpdateMessage', access: 'user' },
    },
    async (request) => {
      const row = await updateMessage(
        context,
        request.app.id,
        request.caller,
        request.params.id,
        request.body.message,
      );
      return { message: await presentMessage(db, request.app.id, row, presentation(request.caller)) };
    },
  );

  app.put(
    '/messages/:id',
    {
      schema: { params: MessageParams, body: PartialUpdateMessageBody },
      config: { operation: 'UpdateMessagePartial', access: 'user' },
    },
    async (request) => {
      const body = request.body;
      const actor = userIdOf(body, 'body');
      if (request.caller.kind === 'server' && actor !== undefined) {
        const message = await findMessage(db, request.app.id, request.params.id);
        if (message && message.user_id !== actor)
          throw inputError('user_id', 'is not the author of this message');
      }
      const row = await partialUpdateMessage(context, request.app.id, request.caller, request.params.id, {
        set: body.set ?? {},
        unset: body.unset ?? [],
      });
      return { message: await presentMessage(db, request.app.id, row, presentation(request.caller)) };
    },
  );

  app.delete(
    '/messages/:id',
    {
      schema: { params: MessageParams, querystring: DeleteMessageQuery },
      config: { operation: 'DeleteMessage', access: 'user' },
    },
    async (request) => {
      const hard = request.query.hard ?? false;
      const row = await deleteMessage(context, request.app.id, request.caller, request.params.id, hard);
      if (hard) {
        // The row is gone: present it from what it was, without look-ups of reactions it no longer has.
        const [message] = await presentMessages(
          db,
          request.app.id,
          [{ ...row, reaction_counts: '{}', reaction_scores: '{}' }],
          { form },
        );
        return { message: { ...message, latest_reactions: [], own_reactions: [] } };
      }
      return { message: await presentMessage(db, request.app.id, row, presentation(request.caller)) };
    },
  );

  app.post(
    '/messages/:id/undelete',
    {
      schema: { params: MessageParams, body: UndeleteMessageBody },
      config: { operation: 'UndeleteMessage' },
    },
    async (request) => {
      const row = await undeleteMessage(
        context,
        request.app.id,
        request.params.id,
        request.body.undeleted_by,
      );
      return { message: await presentMessage(db, request.app.id, row, { form }) };
    },
  );

  app.get(
    '/messages/:id/replies',
    { schema: { params: MessageParams, querystring: RepliesQuery }, config: { operation: 'GetReplies' } },
    async (request) => {
      const idLt = request.query.id_lt;
      // Side by side: on PostgreSQL the two queries wait on the network together.
      const [parent, anchor] = await Promise.all([
        getMessage(db, request.app.id, request.params.id),
        idLt === undefined ? undefined : findMessage(db, request.app.id, idLt),
      ]);
      let before: { createdAt: number; id: string } | undefined;
      if (idLt !== undefined) {
        if (!anchor || anchor.parent_id !== parent.id)
          throw inputError('id_lt', `message ${idLt} is not a reply to ${parent.id}`);
        before = { createdAt: anchor.created_at, id: anchor.id };
      }
      const rows = await threadReplyPage(db, request.app.id, parent.id, {
        limit: request.query.limit ?? 25,
        before,
      });
      return { messages: await presentMessages(db, request.app.id, rows, { form }) };
    },
  );
}
