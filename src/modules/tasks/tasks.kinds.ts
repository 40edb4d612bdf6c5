import type { Config } from '../../config.js';
import { storedResultPresenter } from './tasks.presenter.js';
import type { RetryPolicy } from './tasks.retry.js';
import type { TaskHandlers, TaskKind, TaskPresenters } from './tasks.types.js';

function byKind<T>(kinds: readonly TaskKind[], entry: (kind: TaskKind) => T): Record<string, T> {
  const entries: Record<string, T> = {};
  for (const kind of kinds) {
    if (Object.hasOwn(entries, kind.kind)) throw new Error(`task kind "${kind.kind}" is registered twice`);
    entries[kind.kind] = entry(kind);
  }
  return entries;
}

/** The worker's handlers for `kinds`: each parses its payload, then runs. Throws on a kind named twice. */
export function taskHandlersOf(kinds: readonly TaskKind[]): TaskHandlers {
  return byKind(kinds, (kind) => (args) => {
    const payload = kind.parsePayload(args.task.payload);
    return kind.run({ ...args, task: { ...args.task, payload } });
  });
}

/** The status routes' presenters for `kinds`; kinds without one serve their stored result. */
export function taskPresentersOf(kinds: readonly TaskKind[]): TaskPresenters {
  return byKind(kinds, (kind) =>
    kind.presentResult
      ? (task, presentation) => kind.presentResult!(task, presentation)
      : storedResultPresenter,
  );
}

/** The backoff of each kind in `kinds` that declares its own, under `config`; others use the worker's. */
export function taskRetryPoliciesOf(kinds: readonly TaskKind[], config: Config): Record<string, RetryPolicy> {
  const policies: Record<string, RetryPolicy> = {};
  for (const kind of kinds) if (kind.retryPolicy) policies[kind.kind] = kind.retryPolicy(config);
  return policies;
}
