import type { ChildProcess } from 'node:child_process';
import { childProcessesOf, isRunning } from '../../bench/processes.js';
import { waitFor } from './wait.js';

/** Every live process under `pid` (children, their children, ...). */
export function descendantsOf(pid: number): number[] {
  const found: number[] = [];
  for (const child of childProcessesOf(pid)) found.push(child, ...descendantsOf(child));
  return found;
}

/**
 * SIGKILLs the process a test started, as an operator or the kernel's OOM killer would, and resolves
 * once it and every process under it (the child `chatport worker` runs its work in) are gone: after
 * that nothing of the killed worker touches the database or the files.
 */
export async function killLikeACrash(child: ChildProcess): Promise<void> {
  const under = descendantsOf(child.pid!);
  const exited = new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(undefined);
    else child.once('exit', resolve);
  });
  child.kill('SIGKILL');
  await exited;
  // A launcher's child kills itself as soon as it sees the launcher gone (test/launcher.test.ts holds
  // it to a second); the wait here is generous, as every wait in the tests.
  await waitFor(
    () => under.filter(isRunning),
    (running) => running.length === 0,
    { timeoutMillis: 10_000, intervalMillis: 5, what: "the killed process's children to be gone" },
  );
}
