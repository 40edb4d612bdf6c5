import { describe, expect, it } from 'vitest';
import { UnrecoverableError } from '../../src/lib/errors.js';
import { describeFailure, shortMessage, WorkerStoppedError } from '../../src/modules/tasks/tasks.errors.js';
import { nextAttemptAt, retryDelayMillis } from '../../src/modules/tasks/tasks.retry.js';

describe('retry backoff', () => {
  it('doubles from the base after each failed attempt, up to the cap', () => {
    const policy = { baseMillis: 1000, capMillis: 10_000 };
    expect([1, 2, 3, 4, 5, 6].map((attempt) => retryDelayMillis(attempt, policy))).toEqual([
      1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
    expect(retryDelayMillis(5000, policy)).toBe(10_000);
  });

  it('schedules the next attempt, or none once the attempts are used up or the error is final', () => {
    const now = 1_000_000;
    const policy = { baseMillis: 100, capMillis: 1000 };
    expect(nextAttemptAt({ attempt: 2, maxAttempts: 3, retryable: true, nowMicros: now, policy })).toBe(
      now + 200_000,
    );
    expect(nextAttemptAt({ attempt: 3, maxAttempts: 3, retryable: true, nowMicros: now, policy })).toBeNull();
    expect(
      nextAttemptAt({ attempt: 1, maxAttempts: 3, retryable: false, nowMicros: now, policy }),
    ).toBeNull();
    expect(
      nextAttemptAt({ attempt: 1, maxAttempts: 3, retryable: true, immediate: true, nowMicros: now, policy }),
    ).toBe(now);
  });
});

describe('failure descriptions', () => {
  const where = { attempt: 2, maxAttempts: 5 };

  it('passes an UnrecoverableError’s type and message to the client and stops retrying', () => {
    expect(describeFailure(new UnrecoverableError('too many channels', 'input_error'), where)).toEqual({
      error: { type: 'input_error', description: 'too many channels' },
      retryable: false,
      immediate: false,
    });
  });

  it('keeps any other error’s message out of the description, as a short detail only', () => {
    const error = new Error(`ECONNRESET ${'x'.repeat(500)}\n    at TLSSocket.onConnectEnd`);
    const failure = describeFailure(error, where);
    expect(failure.error.type).toBe('internal');
    expect(failure.error.description).toBe('internal error on attempt 2 of 5');
    expect(failure.error.detail).toHaveLength(200);
    expect(failure.error.detail).not.toContain('TLSSocket');
    expect(failure.retryable).toBe(true);
  });

  it('retries at once an attempt cut short by the worker stopping', () => {
    const controller = new AbortController();
    controller.abort(new WorkerStoppedError());
    const failure = describeFailure(controller.signal.reason, { ...where, signal: controller.signal });
    expect(failure).toMatchObject({ error: { type: 'worker_stopped' }, retryable: true, immediate: true });
  });

  it('cuts messages to their first line', () => {
    expect(shortMessage('first\nsecond')).toBe('first');
  });
});
