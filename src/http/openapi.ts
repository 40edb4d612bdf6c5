import swagger from '@fastify/swagger';
import type { HttpApp } from './http-app.js';
import { webhookEventsOpenApi } from '../modules/webhooks/webhooks.openapi.js';

/**
 * The OpenAPI document, generated from the TypeBox schemas every route declares. Registered before
 * the routes so it sees them all; served at `GET /openapi.json` without auth.
 */
export async function registerOpenApi(app: HttpApp): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'chatport',
        description:
          "Stream Chat's server-side REST API as chatport speaks it, with channel and user exports. Every " +
          'request carries ?api_key=, a raw JWT in `authorization` and `stream-auth-type: jwt`.',
        version: '0.1.0',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'query', name: 'api_key' },
          jwt: { type: 'apiKey', in: 'header', name: 'authorization' },
        },
      },
      security: [{ apiKey: [], jwt: [] }],
      webhooks: webhookEventsOpenApi,
    },
  });
  app.get(
    '/openapi.json',
    { config: { access: 'public', operation: 'OpenApi' }, schema: { hide: true } },
    async () => app.swagger(),
  );
}
