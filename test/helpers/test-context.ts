import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig, type Config } from '../../src/config.js';
import type { Context } from '../../src/context.js';
import type { Clock } from '../../src/lib/time.js';
import { closeContext, createContext } from '../../src/runtime.js';
import { createPostgresDatabase, type TestDialect } from './databases.js';

export interface TestContext {
  context: Context;
  config: Config;
  /** The environment that points another process (`chatport worker`, a fixture) at the same database. */
  env: Record<string, string>;
  /** One more context on the same database: another connection pool, as a second process would have. */
  openAnother(options?: { clock?: Clock }): Promise<Context>;
  close(): Promise<void>;
}

/**
 * A migrated database of the given dialect without the HTTP server: SQLite in a file (so other
 * processes can share it), PostgreSQL in a fresh database dropped on close.
 */
export async function openTestContext(
  dialect: TestDialect,
  options: { clock?: Clock } = {},
): Promise<TestContext> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatport-test-'));
  const pgDatabase = dialect === 'postgres' ? await createPostgresDatabase() : undefined;
  const env: Record<string, string> = {
    CHATPORT_DATA_DIR: dataDir,
    CHATPORT_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: pgDatabase ? pgDatabase.url : `sqlite:${path.join(dataDir, 'chatport.sqlite')}`,
  };
  const config = loadConfig(env);
  const logger = pino({ level: config.logLevel });
  const context = await createContext(config, { clock: options.clock, logger });
  const others: Context[] = [];
  return {
    context,
    config,
    env,
    async openAnother(another = {}) {
      const other = await createContext(config, { clock: another.clock ?? options.clock, logger });
      others.push(other);
      return other;
    },
    async close() {
      for (const other of others) await closeContext(other);
      await closeContext(context);
      await pgDatabase?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
