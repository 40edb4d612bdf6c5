import type { HttpApp } from './http/http-app.js';
import pino, { type Logger } from 'pino';
import type { Config } from './config.js';
import type { Context } from './context.js';
import { openDatabase, type DatabaseDialect } from './database/database.js';
import { migrateToLatest } from './database/migrate.js';
import { makeDataDirectoryPrivate } from './data-directory.js';
import { createSystemClock, type Clock } from './lib/time.js';
import { ensureApp, ensureDevelopmentApp } from './modules/apps/apps.usecases.js';
import { taskHandlersOf, taskRetryPoliciesOf } from './modules/tasks/tasks.kinds.js';
import type { TaskHandlers } from './modules/tasks/tasks.types.js';
import { createTaskWorker, type TaskWorker } from './modules/tasks/tasks.worker.js';
import { createStorageDriver } from './modules/storage/storage.drivers.js';
import { startRetentionSweeper } from './modules/retention/retention.sweeper.js';
import { taskEndHooks, taskKinds } from './task-kinds.js';

export interface RuntimeOptions {
  clock?: Clock;
  logger?: Logger;
  /** Task handlers added to (or replacing kinds of) the built-in registry; tests bring their own kinds. */
  taskHandlers?: TaskHandlers;
}

/** Opens the database, migrates it and builds the context every process (server, worker, CLI) shares. */
export async function createContext(config: Config, options: RuntimeOptions = {}): Promise<Context> {
  const logger = options.logger ?? pino({ level: config.logLevel, name: 'chatport' });
  await makeDataDirectoryPrivate(config.dataDir, logger);
  const storage = await createStorageDriver(config, logger);
  const dialect: DatabaseDialect = openDatabase(config);
  try {
    const applied = await migrateToLatest(dialect);
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
  } catch (error) {
    await dialect.close();
    throw error;
  }
  return { config, dialect, db: dialect.db, clock: options.clock ?? createSystemClock(), logger, storage };
}

export async function closeContext(context: Context): Promise<void> {
  await context.dialect.close();
  await context.storage.close?.();
}

/** Starts a task worker with CHATPORT_WORKER_CONCURRENCY slots and every task kind this build has. */
export function startTaskWorker(context: Context, options: RuntimeOptions = {}): TaskWorker {
  const worker = createTaskWorker({
    context,
    handlers: { ...taskHandlersOf(taskKinds), ...options.taskHandlers },
    retryPolicies: taskRetryPoliciesOf(taskKinds, context.config),
    endHooks: taskEndHooks,
    concurrency: context.config.workerConcurrency,
    leaseMillis: context.config.taskLeaseMillis,
    pollMillis: context.config.taskPollMillis,
  });
  worker.start();
  return worker;
}

/** The app named by CHATPORT_API_KEY/SECRET, or the development app kept in the data dir. */
export async function ensureStartupApp(
  context: Context,
): Promise<{ apiKey: string; apiSecret: string; created: boolean }> {
  const { config, db, clock } = context;
  if (config.apiKey || config.apiSecret) {
    if (!config.apiKey || !config.apiSecret) {
      throw new Error('CHATPORT_API_KEY and CHATPORT_API_SECRET must be set together');
    }
    const app = await ensureApp({
      db,
      clock,
      credentials: { apiKey: config.apiKey, apiSecret: config.apiSecret },
      name: 'default',
    });
    return { apiKey: app.api_key, apiSecret: app.api_secret, created: false };
  }
  const { app, created } = await ensureDevelopmentApp({ db, clock, dataDir: config.dataDir });
  return { apiKey: app.api_key, apiSecret: app.api_secret, created };
}

export interface RunningServer {
  context: Context;
  http: HttpApp;
  /** The address actually bound, e.g. http://127.0.0.1:3030. */
  url: string;
  close(): Promise<void>;
}

/** How long in-flight requests get to finish on shutdown before their connections are closed. */
const SHUTDOWN_GRACE_MILLIS = 5000;

/**
 * Stops accepting connections and waits for in-flight requests; a client that keeps a response open
 * (a stalled download) is cut off after the grace period, so shutdown always ends.
 */
async function closeHttp(http: HttpApp, graceMillis: number): Promise<void> {
  const closing = http.close();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMillis);
    timer.unref();
  });
  if ((await Promise.race([closing.then(() => 'closed' as const), deadline])) === 'timeout') {
    http.log.warn('shutdown: closing connections that outlived the grace period');
    http.server.closeAllConnections();
    await closing;
  }
  clearTimeout(timer);
}

/** Starts the API (and, unless disabled, the in-process worker and the retention sweeper). */
export async function startServer(config: Config, options: RuntimeOptions = {}): Promise<RunningServer> {
  const context = await createContext(config, options);
  const background: Array<{ stop(): Promise<void> }> = [];
  let http: HttpApp | undefined;
  try {
    // Loaded only to serve: a `chatport worker` process never holds the HTTP stack in memory.
    const { buildHttpServer } = await import('./http/server.js');
    http = await buildHttpServer(context);
    await http.listen({ port: config.port, host: config.host });
    const address = http.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
    // Download links are signed by the server that answers the status request: without a configured
    // public URL they point at the address it actually listens on (port 0 means a random port).
    if (!context.config.publicUrl) context.config.publicUrl = url;
    if (config.inProcessWorker) background.push(startTaskWorker(context, options));
    background.push(startRetentionSweeper(context));
    let closed = false;
    return {
      context,
      http,
      url,
      async close() {
        if (closed) return;
        closed = true;
        await closeHttp(http!, SHUTDOWN_GRACE_MILLIS);
        for (const task of background.reverse()) await task.stop();
        await closeContext(context);
      },
    };
  } catch (error) {
    await http?.close();
    for (const task of background.reverse()) await task.stop();
    await closeContext(context);
    throw error;
  }
}
