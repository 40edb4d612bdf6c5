import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { StreamChat } from 'stream-chat';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, testDialects } from './helpers/databases.js';

const run = promisify(execFile);

interface Started {
  url: string;
  apiKey: string;
  apiSecret: string;
  output: string;
  stop(): Promise<void>;
}

/** Starts `chatport serve` as a user would, and reads what it prints. */
async function serve(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ['bin/chatport.mjs', 'serve'], {
    env: { ...process.env, CHATPORT_PORT: '0', CHATPORT_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 30_000;
  while (!/api secret (\S+)/.test(output)) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`chatport serve did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: /listening on (\S+)/.exec(output)![1]!,
    apiKey: /api key\s+(\S+)/.exec(output)![1]!,
    apiSecret: /api secret (\S+)/.exec(output)![1]!,
    output,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

describe('the command line', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatport-cli-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serve creates a development app on first start, keeps it in the data dir and reuses it', async () => {
    const dataDir = tempDir();
    const first = await serve({ CHATPORT_DATA_DIR: dataDir });
    expect(first.output).toContain('created a development app');
    const health = await fetch(`${first.url}/health`);
    expect(await health.json()).toMatchObject({ status: 'ok', database: 'sqlite' });
    const client = new StreamChat(first.apiKey, first.apiSecret, { baseURL: first.url });
    await client.upsertUser({ id: 'persisted' });
    await first.stop();
    expect(fs.existsSync(path.join(dataDir, 'chatport.sqlite'))).toBe(true);

    const second = await serve({ CHATPORT_DATA_DIR: dataDir });
    expect(second.output).not.toContain('created a development app');
    expect([second.apiKey, second.apiSecret]).toEqual([first.apiKey, first.apiSecret]);
    const again = new StreamChat(second.apiKey, second.apiSecret, { baseURL: second.url });
    expect((await again.queryUsers({ id: 'persisted' })).users).toHaveLength(1);
    await second.stop();
  }, 90_000);

  it('CHATPORT_API_KEY and CHATPORT_API_SECRET make sure that app exists', async () => {
    const started = await serve({
      CHATPORT_DATA_DIR: tempDir(),
      CHATPORT_API_KEY: 'my-key',
      CHATPORT_API_SECRET: 'my-secret',
    });
    try {
      expect([started.apiKey, started.apiSecret]).toEqual(['my-key', 'my-secret']);
      const client = new StreamChat('my-key', 'my-secret', { baseURL: started.url });
      await expect(client.queryUsers({})).resolves.toMatchObject({ users: [] });
    } finally {
      await started.stop();
    }
  }, 60_000);

  it('app create prints a new key and secret that work at once; migrate exits cleanly', async () => {
    const dataDir = tempDir();
    const env = { ...process.env, CHATPORT_DATA_DIR: dataDir, CHATPORT_LOG_LEVEL: 'warn' };
    const migrated = await run(process.execPath, ['bin/chatport.mjs', 'migrate'], { env });
    expect(migrated.stdout).toContain('up to date');
    const created = await run(process.execPath, ['bin/chatport.mjs', 'app', 'create', '--name', 'acme'], {
      env,
    });
    const app = JSON.parse(created.stdout.trim().split('\n').pop()!) as {
      api_key: string;
      api_secret: string;
      name: string;
    };
    expect(app.name).toBe('acme');
    const started = await serve({ CHATPORT_DATA_DIR: dataDir });
    try {
      const client = new StreamChat(app.api_key, app.api_secret, { baseURL: started.url });
      await expect(client.upsertUser({ id: 'acme-user' })).resolves.toBeTruthy();
    } finally {
      await started.stop();
    }
  }, 90_000);

  it.runIf(testDialects.includes('postgres'))(
    'DATABASE_URL switches storage to PostgreSQL and nothing else changes',
    async () => {
      const database = await createPostgresDatabase();
      try {
        const started = await serve({ CHATPORT_DATA_DIR: tempDir(), DATABASE_URL: database.url });
        try {
          expect(await (await fetch(`${started.url}/health`)).json()).toMatchObject({
            status: 'ok',
            database: 'postgres',
          });
          const client = new StreamChat(started.apiKey, started.apiSecret, { baseURL: started.url });
          await client.upsertUser({ id: 'pg-user' });
          expect((await client.queryUsers({ id: 'pg-user' })).users).toHaveLength(1);
        } finally {
          await started.stop();
        }
      } finally {
        await database.drop();
      }
    },
    60_000,
  );
});
