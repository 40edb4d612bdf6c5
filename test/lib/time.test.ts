import { describe, expect, it } from 'vitest';
import { createSystemClock, formatMicros, parseTimestamp } from '../../src/lib/time.js';

describe('timestamps', () => {
  it('formats microseconds as UTC RFC 3339 with exactly six fractional digits', () => {
    expect(formatMicros(1_613_549_869_745_857)).toBe('2021-02-17T08:17:49.745857Z');
    expect(formatMicros(1_613_549_869_000_000)).toBe('2021-02-17T08:17:49.000000Z');
    expect(formatMicros(1_613_549_869_000_001)).toBe('2021-02-17T08:17:49.000001Z');
    expect(formatMicros(-1)).toBe('1969-12-31T23:59:59.999999Z');
  });

  it('parses any precision and any offset, and formats back to the same instant', () => {
    expect(parseTimestamp('2021-02-17T08:17:49.745857Z')).toBe(1_613_549_869_745_857);
    expect(parseTimestamp('2024-01-01T00:00:00.000Z')).toBe(1_704_067_200_000_000);
    expect(parseTimestamp('2024-01-01T00:00:00Z')).toBe(1_704_067_200_000_000);
    expect(parseTimestamp('2024-01-01T00:00:00.123456789Z')).toBe(1_704_067_200_123_456);
    expect(parseTimestamp('2024-01-01T02:00:00+02:00')).toBe(1_704_067_200_000_000);
    expect(parseTimestamp('2023-12-31T19:30:00.5-04:30')).toBe(1_704_067_200_500_000);
    expect(formatMicros(parseTimestamp('0099-06-15T10:00:00Z')!)).toBe('0099-06-15T10:00:00.000000Z');
  });

  it('refuses what is not a date-time with a zone', () => {
    for (const text of [
      '',
      'yesterday',
      '2024-01-01',
      '2024-01-01T00:00:00',
      '2024-02-30T00:00:00Z',
      '2024-13-01T00:00:00Z',
      '2024-01-01T24:00:00Z',
      '2024-01-01T00:00:00+25:00',
    ]) {
      expect(parseTimestamp(text), text).toBeNull();
    }
  });

  it('the system clock never repeats or goes back within a process', () => {
    const clock = createSystemClock();
    let previous = clock.nowMicros();
    for (let i = 0; i < 10_000; i++) {
      const now = clock.nowMicros();
      expect(now).toBeGreaterThan(previous);
      previous = now;
    }
  });
});
