import { Type } from 'typebox';
import type { Context } from '../../context.js';
import type { HttpApp } from '../../http/http-app.js';
import { notFound } from '../../lib/errors.js';
import {
  BUILT_IN_CHANNEL_TYPES,
  channelTypeConfig,
  isBuiltInChannelType,
} from './channel-types.declaration.js';

const ChannelTypeParams = Type.Object({ name: Type.String({ minLength: 1 }) });

/**
 * `GET /channeltypes` and `GET /channeltypes/{name}` (`listChannelTypes`, `getChannelType`): Stream's
 * built-in types, created with the app. Server-side only; the types cannot change.
 */
export function registerChannelTypeRoutes(app: HttpApp, _context: Context): void {
  app.get('/channeltypes', { config: { operation: 'ListChannelTypes' } }, async (request) => ({
    channel_types: Object.fromEntries(
      BUILT_IN_CHANNEL_TYPES.map((name) => [name, channelTypeConfig(name, request.app.created_at)]),
    ),
  }));

  app.get(
    '/channeltypes/:name',
    { schema: { params: ChannelTypeParams }, config: { operation: 'GetChannelType' } },
    async (request) => {
      const { name } = request.params;
      if (!isBuiltInChannelType(name)) throw notFound(`Can't find channel type ${name}`);
      return channelTypeConfig(name, request.app.created_at);
    },
  );
}
