/**
 * The processes a benchmark runs against: `chatport serve`, `chatport worker` and the bare Fastify
 * baseline, each a child started the way an operator would start it, on 127.0.0.1 only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from '../bin/build.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Child {
  process: ChildProcess;
  /** The process started: for `chatport serve` and `worker`, a launcher waiting for its child. */
  pid: number;
  /** The process doing the work: the child the launcher runs (bin/relaunch.mjs), or the one started. */
  workPid(): number;
  /** Resolves with the first stdout line matching `pattern`; rejects if the child exits first. */
  waitForLine(pattern: RegExp, timeoutMillis?: number): Promise<RegExpMatchArray>;
  /** SIGTERM, then SIGKILL after `graceMillis`; resolves once the child has exited. */
  stop(graceMillis?: number): Promise<void>;
}

/** Where children write V8 CPU profiles (`npm run bench -- --cpu-prof <dir>`), or none. */
let cpuProfileDir: string | undefined;

export function profileChildrenInto(directory: string | undefined): void {
  cpuProfileDir = directory && path.resolve(directory);
}

export function startChild(args: string[], env: Record<string, string | undefined>): Child {
  const profile = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [];
  const child = spawn(process.execPath, [...profile, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const errors: string[] = [];
  const listeners = new Set<() => void>();
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const listener of listeners) listener();
  });
  readline.createInterface({ input: child.stderr! }).on('line', (line) => {
    errors.push(line);
    if (errors.length > 50) errors.shift();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let working: number | undefined;
  return {
    process: child,
    pid: child.pid!,
    workPid() {
      working ??= workingProcessOf(child.pid!);
      return working ?? child.pid!;
    },
    waitForLine(pattern, timeoutMillis = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (const line of lines) {
            const match = line.match(pattern);
            if (match) {
              done();
              resolve(match);
              return;
            }
          }
        };
        const onExit = () => {
          done();
          reject(new Error(`${args.join(' ')} exited before printing ${pattern}:\n${errors.join('\n')}`));
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${args.join(' ')} did not print ${pattern} within ${timeoutMillis} ms`));
        }, timeoutMillis);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
      });
    },
    async stop(graceMillis = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMillis);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The environment every chatport child shares: the benchmark's data and database, quiet logs. */
export interface ChatportEnv {
  dataDir: string;
  databaseUrl: string | undefined;
  apiKey: string;
  apiSecret: string;
}

function chatportEnv(env: ChatportEnv, extra: Record<string, string>): Record<string, string | undefined> {
  return {
    CHATPORT_DATA_DIR: env.dataDir,
    DATABASE_URL: env.databaseUrl,
    CHATPORT_API_KEY: env.apiKey,
    CHATPORT_API_SECRET: env.apiSecret,
    CHATPORT_HOST: '127.0.0.1',
    CHATPORT_LOG_LEVEL: 'warn',
    ...extra,
  };
}

/** `chatport serve` on a free port; with `worker: false`, exports wait for a `chatport worker`. */
export async function startServer(
  env: ChatportEnv,
  { worker }: { worker: boolean },
): Promise<Child & { url: string }> {
  // Compiled here rather than by the first chatport process, whose memory and time are measured.
  await ensureBuilt();
  const child = startChild(
    ['bin/chatport.mjs', 'serve'],
    chatportEnv(env, { CHATPORT_PORT: '0', CHATPORT_WORKER: String(worker) }),
  );
  const [, url] = await child.waitForLine(/listening on (http:\/\/\S+)/);
  return { ...child, url: url! };
}

/** `chatport worker`, with the default configuration (poll interval, concurrency) and `extra` settings. */
export async function startWorker(env: ChatportEnv, extra: Record<string, string> = {}): Promise<Child> {
  await ensureBuilt();
  const child = startChild(['bin/chatport.mjs', 'worker'], chatportEnv(env, extra));
  await child.waitForLine(/task worker \S+ running/);
  return child;
}

/** The baseline HTTP server: bench/hello-world.ts, through tsx (once loaded, the same JavaScript). */
export async function startHelloWorld(): Promise<Child & { url: string }> {
  const child = startChild(['bin/run-ts.mjs', 'bench/hello-world.ts'], {});
  const [, url] = await child.waitForLine(/listening on (http:\/\/\S+)/);
  return { ...child, url: url! };
}

/** The pids of the live processes whose parent is `pid` (Linux: /proc), in no order. */
export function childProcessesOf(pid: number): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const children: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = processStat(Number(entry));
    if (stat && stat.parent === pid && stat.state !== 'Z') children.push(Number(entry));
  }
  return children;
}

/** True while `pid` runs (a zombie, dead but not yet reaped by its parent, does not). */
export function isRunning(pid: number): boolean {
  const stat = processStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

function processStat(pid: number): { state: string; parent: number } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (command) state ppid ...": the command may hold spaces and parentheses.
  const [state, parent] = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: state!, parent: Number(parent) };
}

/**
 * The node process a chatport launcher runs the command in, or undefined where there is none (the
 * command runs in the process started: an operator's MALLOC_* value, not glibc, not Linux).
 */
function workingProcessOf(pid: number): number | undefined {
  const executable = (of: number) => {
    try {
      return fs.readlinkSync(`/proc/${of}/exe`);
    } catch {
      return undefined;
    }
  };
  const node = executable(pid);
  const children = childProcessesOf(pid).filter((child) => executable(child) === node);
  return node !== undefined && children.length === 1 ? children[0] : undefined;
}

/**
 * CPU time a live process has used so far, user and system, over all its threads, in seconds (Linux:
 * /proc/<pid>/stat, counted in USER_HZ, which is 100 on every Linux ABI), or undefined where unknown.
 */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "pid (command) ": state is the first, utime the 12th, stime the 13th.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/**
 * CPU time the whole machine has used so far, busy (every state but idle and iowait) and in all, in
 * seconds summed over its CPUs (Linux: /proc/stat, in USER_HZ), or undefined where unknown.
 */
export function machineCpuSeconds(): { busy: number; total: number } | undefined {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    // "cpu user nice system idle iowait irq softirq steal guest guest_nice": guest time is in user's.
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.split(/\s+/).slice(1, 9).map(Number);
    const busy = user! + nice! + system! + irq! + softirq! + steal!;
    return { busy: busy / 100, total: (busy + idle! + iowait!) / 100 };
  } catch {
    return undefined;
  }
}

/** Peak resident memory of a live process, in bytes (Linux: VmHWM), or undefined where unknown. */
export function peakRss(pid: number): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = status.match(/^VmHWM:\s+(\d+)\s+kB/m);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
