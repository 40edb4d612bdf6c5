/** Commands that run long enough for the heap's fragmentation to matter. */
export const RELAUNCHED_COMMANDS: readonly string[];
/** What the child's environment gets, each unless the environment has its own value. */
export const MALLOC_SETTINGS: Readonly<Record<string, string>>;
/** Set in the environment, it tells chatport malloc is tuned already: no child. */
export const OPERATOR_SETTING: string;
/** In the child's environment only: the launcher's pid. */
export const LAUNCHER_VARIABLE: string;
/** Signals the launcher passes on to the child. */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[];
/** True when this process runs on glibc. */
export function runsOnGlibc(): boolean;
/** The environment to run the command with in a child, or undefined to run it in this process. */
export function relaunchEnvironment(options: {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  execArgv?: readonly string[];
  glibc: boolean;
  launcherPid: number;
}): Record<string, string | undefined> | undefined;
/** Runs this command again in a child with the malloc settings, when it should; true if it did. */
export function relaunchWithMallocSettings(): Promise<boolean>;
/** In a relaunched child: SIGKILL this process the moment the launcher is gone. */
export function dieWithLauncher(): void;
