import { EventEmitter } from 'node:events';

/**
 * In-process wake-ups: enqueueTask announces new work here, and every worker started in this process
 * listens, so a task enqueued by the server is picked up within milliseconds instead of at the next
 * poll. Workers in other processes still find it by polling. A wake-up carries no data and a spurious
 * one costs a single claim query, so one emitter serves every database open in the process.
 */
const enqueued = new EventEmitter();
// Every worker in the process listens; tests start many.
enqueued.setMaxListeners(0);

/**
 * Wakes the workers of this process. enqueueTask calls it, except inside a transaction: there the
 * caller calls it after commit, as a worker woken earlier could not see the uncommitted task yet.
 */
export function notifyTaskWorkers(): void {
  enqueued.emit('enqueued');
}

/** Calls `listener` on every notifyTaskWorkers(); returns the function that stops listening. */
export function onTaskEnqueued(listener: () => void): () => void {
  enqueued.on('enqueued', listener);
  return () => enqueued.off('enqueued', listener);
}
