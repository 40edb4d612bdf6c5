/**
 * The long-running commands (`serve`, `worker`, `import`) run in a child of the process started, with
 * glibc's malloc told to return large freed blocks to the system at once (`MALLOC_MMAP_THRESHOLD_`).
 * glibc reads its `MALLOC_*` variables only when a process starts, so the CLI sets them by running
 * itself again, once. Without it, glibc raises its threshold each time a large block is freed, keeps
 * later blocks of that size in its arenas, and a worker's memory grows with the size of an export
 * (`npm run bench -- --only exports` prints the `rss.*` figures).
 *
 * The process started (the launcher) stays out of the way: the child inherits its standard streams,
 * SIGTERM, SIGINT, SIGHUP, SIGQUIT and SIGUSR2 are passed on to the child, and the launcher exits as
 * the child did (the same code, or killed by the same signal). If the launcher dies, even by SIGKILL,
 * the child SIGKILLs itself as soon as it notices the IPC channel between them close: no cleanup, as
 * if it had been killed itself, which is what whoever killed the launcher meant.
 *
 * An operator's own values win: any of the variables already in the environment keeps its value, and
 * with `MALLOC_MMAP_THRESHOLD_` set the command runs in the process started, with no child. No child
 * either outside glibc (musl, macOS, Windows), under a debugger
 * (`--inspect`), or when the child cannot be started (the command then runs in this process).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

/** Commands that run long enough for the heap's fragmentation to matter. */
export const RELAUNCHED_COMMANDS = ['serve', 'worker', 'import'];

/**
 * What the child's environment gets, each unless the environment has its own value. 128 KiB is
 * glibc's starting mmap threshold; naming it keeps it from moving (and the trim threshold with it).
 * Measured and left out: MALLOC_ARENA_MAX=2 (no lower peak: SQLite over three rounds, PostgreSQL one);
 * a threshold of 1 MiB or 4 MiB (exports no faster; at 4 MiB a higher peak, over 150 MB).
 */
export const MALLOC_SETTINGS = { MALLOC_MMAP_THRESHOLD_: '131072' };

/** Set in the environment, it tells chatport malloc is tuned already: no child. */
export const OPERATOR_SETTING = 'MALLOC_MMAP_THRESHOLD_';

/** In the child's environment only: the launcher's pid. The child removes it from its environment. */
export const LAUNCHER_VARIABLE = 'CHATPORT_LAUNCHER_PID';

/** Signals the launcher passes on; any other that kills the launcher kills the child through the channel. */
export const FORWARDED_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR2'];

/**
 * Signals whose default action dumps core. A child dead of one leaves its core; the launcher exits
 * 128 + the signal's number instead of dumping a core of its own beside it (or over it: a core
 * pattern without the pid names both files `core`).
 */
const CORE_DUMPING_SIGNALS = new Set([
  'SIGABRT',
  'SIGBUS',
  'SIGFPE',
  'SIGILL',
  'SIGQUIT',
  'SIGSEGV',
  'SIGSYS',
  'SIGTRAP',
  'SIGXCPU',
  'SIGXFSZ',
]);

/** True when this process runs on glibc (the official Linux builds of Node.js do; Alpine's are musl). */
export function runsOnGlibc() {
  if (process.platform !== 'linux') return false;
  try {
    return /\/libc\.so\.6$/m.test(fs.readFileSync('/proc/self/maps', 'utf8'));
  } catch {
    return false;
  }
}

/**
 * The environment to run the command with in a child, or undefined to run it in this process.
 * Pure: `argv`, `env` and `execArgv` as process has them; `glibc` from runsOnGlibc().
 */
export function relaunchEnvironment({ argv, env, execArgv = [], glibc, launcherPid }) {
  if (!glibc || env[LAUNCHER_VARIABLE] !== undefined) return undefined;
  if (!RELAUNCHED_COMMANDS.includes(argv[2])) return undefined;
  if (env[OPERATOR_SETTING] !== undefined) return undefined;
  // Two processes would compete for the inspector's port; debug the process you started.
  if ([...execArgv, env.NODE_OPTIONS ?? ''].some((option) => /--inspect/.test(option))) return undefined;
  return { ...MALLOC_SETTINGS, ...env, [LAUNCHER_VARIABLE]: String(launcherPid) };
}

/**
 * Runs this command again in a child with the malloc settings, when it should: resolves true once the
 * child is running (this process then only waits for it and exits as it does), false when the command
 * is to run in this process.
 */
export async function relaunchWithMallocSettings() {
  const env = relaunchEnvironment({
    argv: process.argv,
    env: process.env,
    execArgv: process.execArgv,
    glibc: runsOnGlibc(),
    launcherPid: process.pid,
  });
  if (!env) return false;
  let child;
  try {
    child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      env,
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    });
  } catch {
    return false;
  }
  const forwarders = FORWARDED_SIGNALS.map((signal) => {
    const forward = () => child.kill(signal);
    process.on(signal, forward);
    return [signal, forward];
  });
  const stopForwarding = () => {
    for (const [signal, forward] of forwarders) process.off(signal, forward);
  };
  const started = await new Promise((resolve) => {
    child.once('spawn', () => resolve(true));
    child.once('error', () => resolve(false));
  });
  if (!started) {
    stopForwarding();
    return false;
  }
  // After the start, errors come only from kill() on a child already gone: its exit follows.
  child.on('error', () => {});
  child.once('exit', (code, signal) => {
    stopForwarding();
    if (signal === null) process.exit(code ?? 1);
    // The shell's convention for a death by signal, where this process does not die of it itself.
    const signalCode = 128 + (os.constants.signals[signal] ?? 0);
    if (CORE_DUMPING_SIGNALS.has(signal)) process.exit(signalCode);
    // Die the same way, so a shell or supervisor sees what the child died of.
    process.exitCode = signalCode;
    process.kill(process.pid, signal);
  });
  return true;
}

/**
 * In a child started by relaunchWithMallocSettings: SIGKILL this process the moment the launcher is
 * gone. The channel does not keep the process alive; the handler runs on the main thread, between two
 * of its tasks.
 */
export function dieWithLauncher() {
  if (process.env[LAUNCHER_VARIABLE] === undefined) return;
  delete process.env[LAUNCHER_VARIABLE];
  if (!process.channel) return;
  process.channel.unref();
  const die = () => process.kill(process.pid, 'SIGKILL');
  process.once('disconnect', die);
  // Gone already, before this handler was there to hear it.
  if (!process.connected) die();
}
