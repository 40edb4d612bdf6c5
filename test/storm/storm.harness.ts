/**
 * The multi-process storm: chatport as it runs on several hosts (N `chatport serve` processes without
 * workers, M `chatport worker` processes) on one PostgreSQL database and one storage, with workers
 * SIGKILLed at random moments and started again. Bounded by time and by task count; it stops by itself.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { StreamChat } from 'stream-chat';
import { ensureBuilt } from '../../bin/build.mjs';
import { startChild, type Child } from '../../bench/processes.js';
import { loadConfig } from '../../src/config.js';
import type { Context } from '../../src/context.js';
import { createApp } from '../../src/modules/apps/apps.usecases.js';
import { closeContext, createContext } from '../../src/runtime.js';
import { createPostgresDatabase } from '../helpers/databases.js';
import { killLikeACrash } from '../helpers/processes.js';
import { sdkClient } from '../helpers/test-server.js';

export interface StormApi extends Child {
  url: string;
  client: StreamChat;
}

export interface StormWorker {
  child: Child;
  /** The id it writes to `lease_owner`. */
  id: string;
}

export interface Storm {
  /** A context of the test's own on the same database and storage: for seeding, checks, sweeps. */
  context: Context;
  appId: number;
  apis: StormApi[];
  /** The worker in each slot now; a restarted slot holds a new process. */
  workers: StormWorker[];
  startWorker(): Promise<StormWorker>;
  /** SIGKILLs random workers every 0.2-1.2 s and restarts them, until `done()` or `untilMillis`. */
  rampage(options: { untilMillis: number; done(): Promise<boolean> }): Promise<{ kills: number }>;
  close(): Promise<void>;
}

export interface StormOptions {
  /** CHATPORT_STORAGE and the settings around it; empty for local disk in the shared data dir. */
  storageEnv: Record<string, string>;
  apis: number;
  workers: number;
  /** CHATPORT_TASK_LEASE_MS of every process: how soon a killed worker's task is taken back. */
  leaseMillis: number;
}

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));

export async function startStorm(options: StormOptions): Promise<Storm> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatport-storm-'));
  const database = await createPostgresDatabase();
  const env: Record<string, string> = {
    ...options.storageEnv,
    CHATPORT_DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    CHATPORT_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    CHATPORT_TASK_LEASE_MS: String(options.leaseMillis),
    CHATPORT_TASK_POLL_MS: '50',
    CHATPORT_HOST: '127.0.0.1',
    // One app queues every task of the storm at once: no per-app cap.
    CHATPORT_MAX_TASKS_PER_APP: '0',
  };
  const context = await createContext(loadConfig(env), { logger: pino({ level: 'silent' }) });
  const app = await createApp({ db: context.db, clock: context.clock, name: 'storm' });
  const credentials = { CHATPORT_API_KEY: app.api_key, CHATPORT_API_SECRET: app.api_secret };
  await ensureBuilt();

  const apis: StormApi[] = [];
  const workers: StormWorker[] = [];
  const everyChild: Child[] = [];

  async function startWorker(): Promise<StormWorker> {
    const child = startChild(['bin/chatport.mjs', 'worker'], env);
    everyChild.push(child);
    const [, id] = await child.waitForLine(/task worker (\S+) running/);
    return { child, id: id! };
  }

  try {
    for (let i = 0; i < options.apis; i++) {
      const child = startChild(['bin/chatport.mjs', 'serve'], {
        ...env,
        ...credentials,
        CHATPORT_PORT: '0',
        CHATPORT_WORKER: 'false',
      });
      everyChild.push(child);
      const [, url] = await child.waitForLine(/listening on (http:\/\/\S+)/);
      apis.push({ ...child, url: url!, client: sdkClient(app.api_key, app.api_secret, url!) });
    }
    for (let i = 0; i < options.workers; i++) workers.push(await startWorker());
  } catch (error) {
    for (const child of everyChild) child.process.kill('SIGKILL');
    throw error;
  }

  return {
    context,
    appId: app.id,
    apis,
    workers,
    startWorker,
    async rampage({ untilMillis, done }) {
      let kills = 0;
      while (Date.now() < untilMillis && !(await done())) {
        await sleep(200 + Math.random() * 1000);
        const slot = Math.floor(Math.random() * workers.length);
        const victim = workers[slot]!.child;
        await killLikeACrash(victim.process);
        kills++;
        workers[slot] = await startWorker();
      }
      return { kills };
    },
    async close() {
      await Promise.all(everyChild.map((child) => child.stop(3000)));
      await closeContext(context);
      await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
