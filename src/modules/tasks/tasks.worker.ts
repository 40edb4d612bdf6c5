import crypto from 'node:crypto';
import os from 'node:os';
import type { Context } from '../../context.js';
import type { TaskRow } from '../../database/database.types.js';
import { UnrecoverableError } from '../../lib/errors.js';
import { isPlainObject } from '../../lib/json.js';
import { MICROS_PER_MILLI } from '../../lib/time.js';
import { claimTasks } from './tasks.claim.js';
import { completeTask } from './tasks.complete.js';
import { createTaskEnder, endedTaskOf } from './tasks.end.js';
import { describeFailure, LeaseLostError, WorkerStoppedError } from './tasks.errors.js';
import { failTask } from './tasks.fail.js';
import { keepLeaseAlive, type LeaseKeeper } from './tasks.heartbeat.js';
import { saveTaskProgress } from './tasks.progress.js';
import { onTaskEnqueued } from './tasks.notify.js';
import { hasDueTasks } from './tasks.probe.js';
import { reapExpiredLeases } from './tasks.reap.js';
import { DEFAULT_RETRY_POLICY, nextAttemptAt, type RetryPolicy } from './tasks.retry.js';
import type { TaskEndHook, TaskHandlers, TaskLease, TaskOutcome } from './tasks.types.js';

export interface TaskWorkerOptions {
  context: Context;
  /** Handlers by task kind; a task of any other kind fails with type `unknown_kind`. */
  handlers: TaskHandlers;
  /** Tasks run at once. Default 2. */
  concurrency?: number;
  /**
   * How often to look for due tasks when nothing wakes the worker earlier (tasks queued by other
   * processes, retries coming due), in ms. A look is one read without locks; the claim only follows
   * when a task is due. Default 1000.
   */
  pollMillis?: number;
  /** Lease on a running attempt, in ms, renewed every third of it while the handler runs. Default 30000. */
  leaseMillis?: number;
  /** Written to `lease_owner`. Default `<hostname>:<pid>:<8 random hex digits>`, unique per worker. */
  workerId?: string;
  /** How often this worker reaps expired leases, in ms. Default half the lease. */
  reapMillis?: number;
  /** Backoff between attempts. Default 1 s doubling up to 5 min (tasks.retry.ts). */
  retryPolicy?: RetryPolicy;
  /** Backoff of the kinds that declare their own (taskRetryPoliciesOf); others use `retryPolicy`. */
  retryPolicies?: Record<string, RetryPolicy>;
  /** Hooks run in the transaction that ends a task of the kinds they watch. Default none. */
  endHooks?: readonly TaskEndHook[];
  /**
   * How long stop() waits for running handlers before aborting them, in ms. Default 8000, which with
   * the grace after the abort fits in the 10 s a container runtime allows between SIGTERM and SIGKILL.
   */
  shutdownTimeoutMillis?: number;
}

export interface TaskWorker {
  readonly id: string;
  /** Starts claiming, running and reaping. */
  start(): void;
  /**
   * Stops claiming, waits up to `timeoutMillis` (default: the shutdown timeout) for running handlers,
   * then aborts them. Handlers that ignore the abort are abandoned after a short grace: their leases
   * lapse and another worker's reaper retries them. Resolves once the worker no longer touches the
   * database.
   */
  stop(options?: { timeoutMillis?: number }): Promise<void>;
  /** Looks for due tasks now instead of at the next poll. */
  notify(): void;
}

interface RunningTask {
  controller: AbortController;
  leaseKeeper: LeaseKeeper;
  done: Promise<void>;
}

/** After stop() aborts its handlers, how long they get to return before they are abandoned. */
const ABORT_GRACE_MILLIS = 1500;

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got ${value}`);
  return value;
}

function defaultWorkerId(): string {
  return `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`;
}

/** Resolves true if `promise` settles within `millis`, false otherwise. */
async function settlesWithin(promise: Promise<unknown>, millis: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), millis);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A worker: claims due tasks up to its concurrency, runs their handlers under a lease, reaps. */
export function createTaskWorker(options: TaskWorkerOptions): TaskWorker {
  const { context, handlers } = options;
  const { dialect, db, clock } = context;
  const concurrency = positiveInteger('concurrency', options.concurrency ?? 2);
  const pollMillis = options.pollMillis ?? 1000;
  const leaseMillis = options.leaseMillis ?? 30_000;
  const heartbeatMillis = Math.max(1, Math.floor(leaseMillis / 3));
  const reapMillis = options.reapMillis ?? Math.max(1, Math.floor(leaseMillis / 2));
  const policy = options.retryPolicy ?? DEFAULT_RETRY_POLICY;
  const policies = options.retryPolicies ?? {};
  const policyOf = (kind: string) => (Object.hasOwn(policies, kind) ? policies[kind]! : policy);
  const endTask = createTaskEnder(context, options.endHooks);
  const shutdownTimeoutMillis = options.shutdownTimeoutMillis ?? 8000;
  const workerId = options.workerId ?? defaultWorkerId();
  const logger = context.logger.child({ component: 'task-worker', workerId });

  let state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  const isRunning = () => state === 'running';
  const running = new Map<string, RunningTask>();
  let wakeRequested = false;
  let endPause: (() => void) | undefined;
  let loopDone: Promise<void> = Promise.resolve();
  let reapTimer: NodeJS.Timeout | undefined;
  let reaping: Promise<void> | undefined;
  let stopListening: (() => void) | undefined;
  let stopped: Promise<void> | undefined;
  const retryWakeups = new Set<NodeJS.Timeout>();

  function notify(): void {
    wakeRequested = true;
    endPause?.();
  }

  function pause(millis: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, millis);
      function done() {
        clearTimeout(timer);
        endPause = undefined;
        resolve();
      }
      endPause = done;
    });
  }

  async function loop(): Promise<void> {
    // The first round claims at once; later ones claim when woken, or when a poll finds a due task.
    let woken = true;
    while (isRunning()) {
      woken ||= wakeRequested;
      wakeRequested = false;
      const free = concurrency - running.size;
      if (free > 0) {
        try {
          if (woken || (await hasDueTasks(db, clock))) {
            const tasks = await claimTasks(dialect, clock, { workerId, leaseMillis, limit: free });
            for (const task of tasks) startTask(task);
          }
        } catch (error) {
          logger.error({ err: error }, 'claiming tasks failed; retrying at the next poll');
        }
      }
      woken = false;
      // A wake-up that came while claiming may announce a task the claim just missed.
      if (!isRunning() || wakeRequested) continue;
      // With every slot busy, a finishing task wakes the loop; otherwise the poll or an enqueue does.
      await pause(pollMillis);
    }
  }

  function startTask(task: TaskRow): void {
    const lease: TaskLease = { id: task.id, attempt: task.attempt, owner: workerId };
    const controller = new AbortController();
    const leaseKeeper = keepLeaseAlive({
      db,
      clock,
      lease,
      leaseMillis,
      everyMillis: heartbeatMillis,
      expiresAt: task.lease_expires_at ?? 0,
      onLost: () => controller.abort(new LeaseLostError(task.id, task.attempt)),
      onError: (error) => logger.warn({ err: error, taskId: task.id }, 'heartbeat failed'),
    });
    const done = runTask(task, lease, controller)
      .catch((error: unknown) => logger.error({ err: error, taskId: task.id }, 'task bookkeeping failed'))
      .finally(async () => {
        await leaseKeeper.stop();
        running.delete(task.id);
        notify();
      });
    running.set(task.id, { controller, leaseKeeper, done });
  }

  async function invoke(task: TaskRow, lease: TaskLease, controller: AbortController): Promise<TaskOutcome> {
    const handler = Object.hasOwn(handlers, task.kind) ? handlers[task.kind] : undefined;
    if (!handler) throw new UnrecoverableError(`no handler for task kind "${task.kind}"`, 'unknown_kind');
    let payload: unknown;
    try {
      payload = JSON.parse(task.payload);
    } catch {
      throw new UnrecoverableError('the task payload is not valid JSON', 'invalid_payload');
    }
    let checkpoint: unknown = null;
    try {
      checkpoint = task.checkpoint === null ? null : JSON.parse(task.checkpoint);
    } catch {
      // An unreadable checkpoint only costs the work it would have saved: start over.
    }
    const { signal } = controller;
    const outcome = await handler({
      context,
      task: { id: task.id, appId: task.app_id, kind: task.kind, payload, attempt: task.attempt, checkpoint },
      signal,
      async saveProgress(update) {
        signal.throwIfAborted();
        if (!(await saveTaskProgress(db, clock, lease, update))) {
          controller.abort(new LeaseLostError(task.id, task.attempt));
          signal.throwIfAborted();
        }
      },
    });
    if (!isPlainObject(outcome) || !isPlainObject(outcome.result)) {
      throw new Error(`the "${task.kind}" handler returned no result object`);
    }
    return outcome;
  }

  async function runTask(task: TaskRow, lease: TaskLease, controller: AbortController): Promise<void> {
    const taskLog = logger.child({ taskId: task.id, kind: task.kind, attempt: task.attempt });
    const { signal } = controller;
    try {
      const outcome = await invoke(task, lease, controller);
      const completed = await endTask(task.kind, async (write) =>
        (await completeTask(write, clock, lease, outcome))
          ? endedTaskOf(task, { status: 'completed', result: outcome.result }, clock.nowMicros())
          : null,
      );
      if (completed) taskLog.debug('task completed');
      else {
        taskLog.warn('attempt finished after losing its lease; its result was discarded');
        // The file this attempt published is referenced by no task: delete it, as nothing else will.
        if (outcome.file) {
          await context.storage.delete(outcome.file.key).catch((error: unknown) => {
            taskLog.error(
              { err: error, key: outcome.file?.key },
              'could not delete the discarded attempt’s file',
            );
          });
        }
      }
    } catch (error) {
      const failure = describeFailure(error, {
        attempt: task.attempt,
        maxAttempts: task.max_attempts,
        signal,
      });
      const retryAt = nextAttemptAt({
        attempt: task.attempt,
        maxAttempts: task.max_attempts,
        retryable: failure.retryable,
        immediate: failure.immediate,
        nowMicros: clock.nowMicros(),
        policy: policyOf(task.kind),
      });
      const failing = { error: failure.error, retryAt };
      const { type, description } = failure.error;
      const won =
        retryAt === null
          ? await endTask(task.kind, async (write) =>
              (await failTask(write, clock, lease, failing))
                ? endedTaskOf(task, { status: 'failed', error: { type, description } }, clock.nowMicros())
                : null,
            )
          : await failTask(db, clock, lease, failing);
      const fields = { type: failure.error.type, detail: failure.error.detail };
      if (!won) taskLog.warn(fields, 'attempt failed after losing its lease; nothing recorded');
      else if (retryAt === null) taskLog.warn(fields, 'task failed');
      else {
        taskLog.info({ ...fields, retryAt }, 'attempt failed; will retry');
        wakeAt(retryAt);
      }
    }
  }

  /** Wakes the loop when a retry this worker scheduled falls due, rather than at the next poll. */
  function wakeAt(micros: number): void {
    if (!isRunning()) return;
    const timer = setTimeout(
      () => {
        retryWakeups.delete(timer);
        notify();
      },
      // Timers may fire a little early by the clock that set run_after; a few ms late never hurts.
      Math.max(0, Math.ceil((micros - clock.nowMicros()) / MICROS_PER_MILLI)) + 5,
    );
    timer.unref();
    retryWakeups.add(timer);
  }

  function reap(): void {
    if (reaping) return;
    reaping = reapExpiredLeases(db, clock, { policy, policyOf, endTask })
      .then(
        (reaped) => {
          if (reaped.retried + reaped.failed === 0) return;
          logger.warn(reaped, 'took back attempts whose lease expired');
          notify();
        },
        (error: unknown) => logger.error({ err: error }, 'reaping expired leases failed'),
      )
      .finally(() => {
        reaping = undefined;
      });
  }

  async function stop({ timeoutMillis = shutdownTimeoutMillis }: { timeoutMillis?: number } = {}) {
    if (stopped) return stopped;
    stopped = (async () => {
      if (state === 'idle') {
        state = 'stopped';
        return;
      }
      state = 'stopping';
      stopListening?.();
      clearInterval(reapTimer);
      for (const timer of retryWakeups) clearTimeout(timer);
      endPause?.();
      await loopDone;
      await reaping;
      const allDone = () => Promise.allSettled([...running.values()].map((task) => task.done));
      if (!(await settlesWithin(allDone(), timeoutMillis))) {
        logger.warn({ tasks: [...running.keys()] }, 'stopping: aborting the tasks still running');
        for (const task of running.values()) task.controller.abort(new WorkerStoppedError());
        if (!(await settlesWithin(allDone(), ABORT_GRACE_MILLIS))) {
          logger.error({ tasks: [...running.keys()] }, 'stopping: abandoning tasks that ignore the abort');
          // Without heartbeats their leases lapse, and a reaper elsewhere retries them.
          for (const task of running.values()) void task.leaseKeeper.stop();
        }
      }
      state = 'stopped';
    })();
    return stopped;
  }

  return {
    id: workerId,
    start() {
      if (state !== 'idle') throw new Error('a task worker can be started only once');
      state = 'running';
      stopListening = onTaskEnqueued(notify);
      reapTimer = setInterval(reap, reapMillis);
      reap();
      loopDone = loop().catch((error: unknown) => logger.error({ err: error }, 'task worker loop crashed'));
      logger.debug({ concurrency, leaseMillis, pollMillis }, 'task worker started');
    },
    stop,
    notify,
  };
}
