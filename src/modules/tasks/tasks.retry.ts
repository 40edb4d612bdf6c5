import { MICROS_PER_MILLI } from '../../lib/time.js';

/**
 * How failed attempts back off. The delay is one pure function rather than one SQL expression: the
 * fenced writer already knows the attempt number it failed, SQLite has no portable `pow()`, and the
 * reaper, the worker and the tests then share a single definition.
 */
export interface RetryPolicy {
  /** Delay after the first failed attempt, in milliseconds. Default 1000. */
  baseMillis: number;
  /** Longest delay between attempts, in milliseconds. Default 300000 (5 minutes). */
  capMillis: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseMillis: 1000, capMillis: 300_000 };

/** The wait after attempt `attempt` (1-based) failed: `min(base * 2^(attempt-1), cap)`. */
export function retryDelayMillis(attempt: number, policy: RetryPolicy = DEFAULT_RETRY_POLICY): number {
  const exponent = Math.max(0, attempt - 1);
  // 2^exponent overflows to Infinity long before it matters; min() then yields the cap.
  return Math.min(policy.baseMillis * 2 ** exponent, policy.capMillis);
}

/**
 * When the next attempt may start after attempt `attempt` failed at `nowMicros`, or null when the task
 * must fail now: the error cannot be retried, or this was its last attempt.
 */
export function nextAttemptAt(args: {
  attempt: number;
  maxAttempts: number;
  retryable: boolean;
  nowMicros: number;
  /** Skip the backoff (the worker stopped; the task itself did nothing wrong). Default false. */
  immediate?: boolean;
  policy?: RetryPolicy;
}): number | null {
  if (!args.retryable || args.attempt >= args.maxAttempts) return null;
  if (args.immediate) return args.nowMicros;
  return args.nowMicros + Math.round(retryDelayMillis(args.attempt, args.policy) * MICROS_PER_MILLI);
}
