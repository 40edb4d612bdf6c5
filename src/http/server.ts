import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { HttpApp } from './http-app.js';
import type { Context } from '../context.js';
import { ApiError } from '../lib/errors.js';
import { registerAuth } from './auth.js';
import {
  createErrorHandler,
  createFrameworkErrorHandler,
  formatDuration,
  handleClientError,
} from './error-handler.js';
import { registerNulGuard } from './nul-guard.js';
import { registerJsonBodyParser } from './json-body.js';
import { registerValidators } from './validation.js';
import { registerRoutes } from './routes.js';
import { registerOpenApi } from './openapi.js';

/** Longest path parameter the router takes (ids are at most 255 characters). */
const MAX_PARAM_LENGTH = 500;

/** Builds the HTTP API over a context. Listening and closing are the caller's. */
export async function buildHttpServer(context: Context): Promise<HttpApp> {
  const { config } = context;
  const handleError = createErrorHandler(context.dialect.classifyError);
  const app = Fastify({
    loggerInstance: context.logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimit,
    // Per-request log lines only at debug: at info they would dominate the log of a busy server.
    logController: new LogController({
      disableRequestLogging: config.logLevel !== 'debug' && config.logLevel !== 'trace',
    }),
    requestTimeout: config.requestTimeoutMillis,
    keepAliveTimeout: config.keepAliveTimeoutMillis,
    connectionTimeout: config.idleTimeoutMillis,
    http: {
      headersTimeout: config.headersTimeoutMillis,
      // Node looks for connections past the headers and request timeouts only this often (30 s by
      // default): a quarter of the timeout closes a silent connection within 1.25 times it.
      connectionsCheckingInterval: Math.max(
        100,
        Math.min(30_000, Math.floor((config.headersTimeoutMillis || config.requestTimeoutMillis) / 4)),
      ),
    },
    clientErrorHandler: handleClientError,
    frameworkErrors: createFrameworkErrorHandler(MAX_PARAM_LENGTH, handleError),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    ajv: { customOptions: { coerceTypes: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.server.maxConnections = config.maxConnections;

  registerValidators(app);
  registerJsonBodyParser(app);
  registerNulGuard(app);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) =>
    handleError(
      new ApiError('notFound', `no route ${request.method} ${request.url.split('?')[0]}`),
      request,
      reply,
    ),
  );

  // Stream's conventions for every success: POST and PUT answer 201, and every body carries `duration`.
  // A callback hook, not an async one: it spares every response a promise.
  app.addHook('preSerialization', (request, reply, payload, done) => {
    if (reply.statusCode === 200 && (request.method === 'POST' || request.method === 'PUT')) reply.code(201);
    if (payload && typeof payload === 'object' && !Array.isArray(payload) && !Buffer.isBuffer(payload)) {
      done(null, { ...(payload as object), duration: formatDuration(reply.elapsedTime) });
      return;
    }
    done(null, payload);
  });

  registerAuth(app, { db: context.db, clock: context.clock });
  await registerOpenApi(app);
  await registerRoutes(app, context);
  return app;
}
