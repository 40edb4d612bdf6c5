import type { HttpApp } from './http/http-app.js';
import pino, { type Logger } from 'pino';
import type { Config } from './config.js';
import type { Context } from './context.js';
import { openDatabase, type DatabaseDialect } from './database/database.js';
import { migrateToLatest } from './database/migrate.js';
import { buildHttpServer } from './http/server.js';
import { createSystemClock, type Clock } from './lib/time.js';
import { ensureApp, ensureDevelopmentApp } from './modules/apps/apps.usecases.js';

export interface RuntimeOptions {
  clock?: Clock;
  logger?: Logger;
}

/** Opens the database, migrates it and builds the context every process (server, worker, CLI) shares. */
export async function createContext(config: Config, options: RuntimeOptions = {}): Promise<Context> {
  const logger = options.logger ?? pino({ level: config.logLevel, name: 'chatport' });
  const dialect: DatabaseDialect = openDatabase(config);
  try {
    const applied = await migrateToLatest(dialect);
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
  } catch (error) {
    await dialect.close();
    throw error;
  }
  return { config, dialect, db: dialect.db, clock: options.clock ?? createSystemClock(), logger };
}

export async function closeContext(context: Context): Promise<void> {
  await context.dialect.close();
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

/** Starts the API (and, unless disabled, the in-process worker and the retention sweeper). */
export async function startServer(config: Config, options: RuntimeOptions = {}): Promise<RunningServer> {
  const context = await createContext(config, options);
  const background: Array<{ stop(): Promise<void> }> = [];
  let http: HttpApp | undefined;
  try {
    http = await buildHttpServer(context);
    await http.listen({ port: config.port, host: config.host });
    const address = http.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
    let closed = false;
    return {
      context,
      http,
      url,
      async close() {
        if (closed) return;
        closed = true;
        await http!.close();
        for (const task of background.reverse()) await task.stop();
        await closeContext(context);
      },
    };
  } catch (error) {
    await http?.close();
    await closeContext(context);
    throw error;
  }
}
