import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { StreamChat } from 'stream-chat';
import { loadConfig, type Config } from '../../src/config.js';
import { createApp } from '../../src/modules/apps/apps.usecases.js';
import { startServer, type RunningServer } from '../../src/runtime.js';
import type { Clock } from '../../src/lib/time.js';
import type { TaskHandlers } from '../../src/modules/tasks/tasks.types.js';
import { createPostgresDatabase, type TestDialect } from './databases.js';

export interface TestApp {
  /** The app's row id (what rows of its data carry as `app_id`). */
  id: number;
  apiKey: string;
  apiSecret: string;
  /** A server-side SDK client (server token) pointed at the test server. */
  client: StreamChat;
}

export interface TestServer {
  dialect: TestDialect;
  server: RunningServer;
  baseURL: string;
  dataDir: string;
  /** The first app; `createTestApp` makes more. */
  app: TestApp;
  createTestApp(name?: string): Promise<TestApp>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  clock?: Clock;
  env?: Record<string, string>;
  /** Extra task kinds for the in-process worker (see RuntimeOptions.taskHandlers). */
  taskHandlers?: TaskHandlers;
}

/** Starts the real server in-process on a free port, on a fresh database of the given dialect. */
export async function startTestServer(
  dialect: TestDialect,
  options: TestServerOptions = {},
): Promise<TestServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatport-test-'));
  const pgDatabase = dialect === 'postgres' ? await createPostgresDatabase() : undefined;
  const config: Config = loadConfig({
    CHATPORT_PORT: '0',
    CHATPORT_DATA_DIR: dataDir,
    CHATPORT_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...(pgDatabase ? { DATABASE_URL: pgDatabase.url } : {}),
    ...options.env,
  });
  const server = await startServer(config, {
    clock: options.clock,
    taskHandlers: options.taskHandlers,
    logger: pino({ level: config.logLevel }),
  });
  const baseURL = server.url;

  async function createTestApp(name = 'test'): Promise<TestApp> {
    const row = await createApp({ db: server.context.db, clock: server.context.clock, name });
    return {
      id: row.id,
      apiKey: row.api_key,
      apiSecret: row.api_secret,
      client: sdkClient(row.api_key, row.api_secret, baseURL),
    };
  }

  const app = await createTestApp();
  return {
    dialect,
    server,
    baseURL,
    dataDir,
    app,
    createTestApp,
    async close() {
      await server.close();
      await pgDatabase?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A fresh server-side SDK client: no shared singleton, so several apps can be used side by side. */
export function sdkClient(apiKey: string, apiSecret: string, baseURL: string): StreamChat {
  return new StreamChat(apiKey, apiSecret, { baseURL, timeout: 20_000 });
}
