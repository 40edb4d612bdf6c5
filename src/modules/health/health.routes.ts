import { sql } from 'kysely';
import type { HttpApp } from '../../http/http-app.js';
import type { Context } from '../../context.js';

/** `GET /health`: 200 when the database answers, 503 otherwise. No auth. */
export function registerHealthRoutes(app: HttpApp, context: Context): void {
  app.get('/health', { config: { access: 'public', operation: 'Health' } }, async (_request, reply) => {
    try {
      await sql`select 1`.execute(context.db);
    } catch (error) {
      reply.log.warn({ err: error }, 'health check: database unreachable');
      reply.code(503);
      return { status: 'unavailable', database: context.dialect.name };
    }
    return { status: 'ok', database: context.dialect.name };
  });
}
