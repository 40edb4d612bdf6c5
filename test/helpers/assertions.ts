import { expect } from 'vitest';

/** Stream's timestamp format: UTC, exactly six fractional digits. */
export const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** Every string value under a key ending in `_at` anywhere in the body is a six-digit UTC timestamp. */
export function expectTimestampsEverywhere(body: unknown, path = 'body'): void {
  if (Array.isArray(body)) {
    body.forEach((item, i) => expectTimestampsEverywhere(item, `${path}[${i}]`));
    return;
  }
  if (!body || typeof body !== 'object') return;
  for (const [key, value] of Object.entries(body)) {
    if (key.endsWith('_at') && value !== null && value !== undefined) {
      expect(value, `${path}.${key}`).toMatch(TIMESTAMP);
    }
    expectTimestampsEverywhere(value, `${path}.${key}`);
  }
}

/** Runs a promise expected to fail with Stream's error shape; returns the parsed error body. */
export async function expectStreamError(
  promise: Promise<unknown>,
  expected: { status: number; code: number },
): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    const e = error as {
      status?: number;
      code?: number;
      response?: { status: number; data: Record<string, unknown> };
    };
    const status = e.response?.status ?? e.status;
    const data = e.response?.data ?? {};
    expect({ status, code: data.code }).toEqual(expected);
    expect(data.StatusCode).toBe(expected.status);
    expect(typeof data.message).toBe('string');
    expect(data.duration).toMatch(/ms$/);
    return data;
  }
  throw new Error('expected the call to fail');
}

/**
 * The Stream error a call expected to fail answered with: status, code, message and
 * `exception_fields`, read from the rejected SDK call's response.
 */
export async function streamFailure(
  call: Promise<unknown>,
): Promise<{ status: number; code: number; message: string; fields: object }> {
  try {
    await call;
  } catch (error) {
    const response = (error as { response?: { status: number; data: Record<string, unknown> } }).response;
    if (!response) throw error;
    return {
      status: response.status,
      code: response.data.code as number,
      message: response.data.message as string,
      fields: response.data.exception_fields as object,
    };
  }
  throw new Error('expected the call to fail');
}
