import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childProcessesOf, isRunning } from '../bench/processes.js';
import {
  LAUNCHER_VARIABLE,
  MALLOC_SETTINGS,
  OPERATOR_SETTING,
  relaunchEnvironment,
  runsOnGlibc,
} from '../bin/relaunch.mjs';
import { createPostgresDatabase, testDialects } from './helpers/databases.js';
import { waitFor } from './helpers/wait.js';

describe('which commands run in a child with the malloc settings (relaunchEnvironment)', () => {
  const argv = (...args: string[]) => ['/usr/bin/node', '/srv/chatport/bin/chatport.mjs', ...args];
  const on = { env: { PATH: '/usr/bin', DATABASE_URL: 'postgres://db' }, glibc: true, launcherPid: 4242 };

  it('serve, worker and import: the same environment, plus the malloc settings and the launcher pid', () => {
    for (const command of ['serve', 'worker', 'import']) {
      expect(relaunchEnvironment({ ...on, argv: argv(command, '--api-key', 'k') })).toEqual({
        PATH: '/usr/bin',
        DATABASE_URL: 'postgres://db',
        MALLOC_MMAP_THRESHOLD_: '131072',
        [LAUNCHER_VARIABLE]: '4242',
      });
    }
  });

  it("an operator's other malloc settings (MALLOC_ARENA_MAX) pass on as they are; the threshold is added", () => {
    const env = { ...on.env, MALLOC_ARENA_MAX: '2' };
    expect(relaunchEnvironment({ ...on, env, argv: argv('worker') })).toMatchObject({
      MALLOC_MMAP_THRESHOLD_: '131072',
      MALLOC_ARENA_MAX: '2',
    });
  });

  it('short commands, help and no command at all run in the process started', () => {
    for (const args of [['migrate'], ['app', 'create'], ['--help'], []])
      expect(relaunchEnvironment({ ...on, argv: argv(...args) })).toBeUndefined();
  });

  it("an operator's own MALLOC_MMAP_THRESHOLD_ wins: no child, and their value is the one in effect", () => {
    const env = { ...on.env, MALLOC_MMAP_THRESHOLD_: '65536' };
    expect(relaunchEnvironment({ ...on, env, argv: argv('worker') })).toBeUndefined();
  });

  it('a child never runs itself again: the launcher pid in its environment stops it', () => {
    const env = { ...on.env, [LAUNCHER_VARIABLE]: '4242' };
    expect(relaunchEnvironment({ ...on, env, argv: argv('worker') })).toBeUndefined();
  });

  it('no child outside glibc, or under a debugger (two processes would compete for its port)', () => {
    expect(relaunchEnvironment({ ...on, glibc: false, argv: argv('serve') })).toBeUndefined();
    expect(relaunchEnvironment({ ...on, execArgv: ['--inspect=0'], argv: argv('serve') })).toBeUndefined();
    const env = { ...on.env, NODE_OPTIONS: '--inspect-brk' };
    expect(relaunchEnvironment({ ...on, env, argv: argv('serve') })).toBeUndefined();
  });

  it("tells glibc from other C libraries as Node.js's own diagnostic report does", () => {
    const report = process.report.getReport() as { header: { glibcVersionRuntime?: string } };
    expect(runsOnGlibc()).toBe(report.header.glibcVersionRuntime !== undefined);
  });
});

interface Started {
  launcher: ChildProcess;
  /** The pid in the worker's id (`<host>:<pid>:<hex>`): the process that runs the tasks. */
  workerPid: number;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const chatportEnv = (env: Record<string, string>) => ({ ...process.env, CHATPORT_LOG_LEVEL: 'warn', ...env });

/** `chatport worker` as an operator starts it, once it says it is running. */
async function startWorker(env: Record<string, string>): Promise<Started> {
  // Through a shell that forbids core files (then execs node: the same pid), for the tests that
  // kill a child with a core-dumping signal.
  const launcher = spawn(
    '/bin/sh',
    ['-c', 'ulimit -c 0 && exec "$0" "$@"', process.execPath, 'bin/chatport.mjs', 'worker'],
    { env: chatportEnv(env), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  launcher.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  launcher.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    launcher.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const running = await waitFor(
    () => /task worker \S+:(\d+):[0-9a-f]+ running/.exec(output) ?? launcher.exitCode,
    (match) => match !== null,
    { timeoutMillis: 30_000, what: 'chatport worker to start' },
  );
  if (!Array.isArray(running)) throw new Error(`chatport worker exited with ${running}:\n${output}`);
  return { launcher, workerPid: Number(running[1]), output: () => output, exited };
}

/** What a `chatport` command prints and exits with; `input` goes to its standard input. */
function chatport(
  env: Record<string, string>,
  args: string[],
  input: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['bin/chatport.mjs', ...args],
      { env: chatportEnv(env) },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(input);
  });
}

describe.runIf(runsOnGlibc()).each(testDialects)(
  'the launcher of chatport worker and import (%s)',
  (dialect) => {
    let env: Record<string, string>;
    let dataDir: string;
    let dropDatabase = async () => {};
    const started: Started[] = [];

    beforeAll(async () => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatport-launcher-'));
      env = { CHATPORT_DATA_DIR: dataDir };
      if (dialect === 'postgres') {
        const database = await createPostgresDatabase();
        env.DATABASE_URL = database.url;
        dropDatabase = database.drop;
      }
    });
    afterAll(async () => {
      // Children too: a failed test may have left one running without its launcher.
      for (const worker of started) {
        worker.launcher.kill('SIGKILL');
        if (isRunning(worker.workerPid)) process.kill(worker.workerPid, 'SIGKILL');
      }
      await dropDatabase();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });
    const start = async (extra: Record<string, string> = {}) => {
      const worker = await startWorker({ ...env, ...extra });
      started.push(worker);
      return worker;
    };

    it('runs the worker in its one child, whose environment holds the malloc setting', async () => {
      const worker = await start();
      try {
        expect(worker.workerPid).not.toBe(worker.launcher.pid);
        expect(childProcessesOf(worker.launcher.pid!)).toEqual([worker.workerPid]);
        const environment = fs.readFileSync(`/proc/${worker.workerPid}/environ`, 'utf8').split('\0');
        for (const [name, value] of Object.entries(MALLOC_SETTINGS))
          expect(environment).toContain(`${name}=${value}`);
      } finally {
        worker.launcher.kill('SIGTERM');
        await worker.exited;
      }
    }, 60_000);

    it('a launcher killed by SIGKILL takes its child with it within a second', async () => {
      const worker = await start();
      expect(isRunning(worker.workerPid)).toBe(true);
      worker.launcher.kill('SIGKILL');
      expect(await worker.exited).toEqual({ code: null, signal: 'SIGKILL' });
      const killedAt = performance.now();
      await waitFor(
        () => isRunning(worker.workerPid),
        (running) => !running,
        { timeoutMillis: 5000, intervalMillis: 5, what: 'the child to be gone' },
      );
      expect(performance.now() - killedAt).toBeLessThan(1000);
    }, 60_000);

    it('a child killed by SIGKILL: the launcher dies of SIGKILL too', async () => {
      const worker = await start();
      process.kill(worker.workerPid, 'SIGKILL');
      expect(await worker.exited).toEqual({ code: null, signal: 'SIGKILL' });
    }, 60_000);

    it('SIGTERM to the launcher: the child shuts down gracefully and the launcher exits 0', async () => {
      const worker = await start();
      worker.launcher.kill('SIGTERM');
      expect(await worker.exited).toEqual({ code: 0, signal: null });
      expect(worker.output()).toContain('chatport: SIGTERM received, shutting down');
      expect(isRunning(worker.workerPid)).toBe(false);
    }, 60_000);

    it('SIGHUP is passed on: the child, which does not handle it, dies of it, and the launcher the same way', async () => {
      const worker = await start();
      worker.launcher.kill('SIGHUP');
      expect(await worker.exited).toEqual({ code: null, signal: 'SIGHUP' });
      expect(worker.output()).not.toContain('shutting down');
      expect(isRunning(worker.workerPid)).toBe(false);
    }, 60_000);

    it('a child dead of a core-dumping signal: the launcher exits 128 + its number, with no core of its own', async () => {
      const worker = await start();
      worker.launcher.kill('SIGQUIT');
      expect(await worker.exited).toEqual({ code: 128 + os.constants.signals.SIGQUIT, signal: null });
      expect(isRunning(worker.workerPid)).toBe(false);
    }, 60_000);

    it("with an operator's own MALLOC_MMAP_THRESHOLD_ the worker runs in the process started", async () => {
      const worker = await start({ MALLOC_MMAP_THRESHOLD_: '65536' });
      try {
        expect(worker.workerPid).toBe(worker.launcher.pid);
        expect(childProcessesOf(worker.launcher.pid!)).toEqual([]);
      } finally {
        worker.launcher.kill('SIGTERM');
        expect(await worker.exited).toEqual({ code: 0, signal: null });
      }
    }, 60_000);

    it('import through the launcher reads standard input, prints and exits exactly as without it', async () => {
      const created = await chatport(env, ['app', 'create', '--name', 'launcher'], '');
      expect(created.code).toBe(0);
      const { api_key: apiKey } = JSON.parse(created.stdout.trim().split('\n').pop()!) as { api_key: string };
      const lines =
        '{"type":"user","data":{"id":"u1"}}\n{"type":"member","data":{"channel_type":"messaging"}}\n';
      const args = ['import', '-', '--api-key', apiKey];
      const launched = await chatport(env, args, lines);
      const direct = await chatport({ ...env, [OPERATOR_SETTING]: '131072' }, args, lines);
      expect(launched.code).toBe(1);
      expect(launched.stderr).toMatch(/^chatport: import failed: line 2: .*\(nothing was imported\)\n$/);
      expect(launched).toEqual(direct);

      const good = await chatport(env, args, '{"type":"user","data":{"id":"u2"}}\n');
      expect(good).toMatchObject({ code: 0, stderr: '' });
      expect(good.stdout).toMatch(/^chatport: imported 1 users, 0 channels, /);
    }, 60_000);
  },
);
