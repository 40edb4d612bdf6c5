/**
 * Time in chatport: every timestamp is an integer count of microseconds since the Unix epoch (UTC).
 * Both databases store it as a BIGINT, so ordering, comparison and indexing are plain integer work and
 * the precision is the same on SQLite and PostgreSQL. On the wire it is RFC 3339 with six fractional
 * digits: `2021-02-17T08:17:49.745857Z`.
 */

/** A source of the current time, injected wherever "now" matters so tests can fix or move it. */
export interface Clock {
  /** Microseconds since the Unix epoch. */
  nowMicros(): number;
}

/**
 * The system clock, made strictly increasing within the process: two events recorded one after the
 * other never share a timestamp, so "newest first" is well defined even for messages sent in a burst.
 */
export function createSystemClock(): Clock {
  let last = 0;
  return {
    nowMicros() {
      const now = Math.floor((performance.timeOrigin + performance.now()) * 1000);
      last = now > last ? now : last + 1;
      return last;
    },
  };
}

/** A clock that only moves when told to: for tests. */
export function createManualClock(
  startMicros: number,
): Clock & { advanceMillis(ms: number): void; set(micros: number): void } {
  let current = startMicros;
  return {
    nowMicros: () => current,
    advanceMillis(ms: number) {
      current += Math.round(ms * 1000);
    },
    set(micros: number) {
      current = micros;
    },
  };
}

const MICROS_PER_SECOND = 1_000_000;
// The last two seconds formatted: exports format millions of times in order, and a status response
// alternates between a task's own times and its link's expiry (now + 24 h).
let cachedSecond = Number.NaN;
let cachedPrefix = '';
let previousSecond = Number.NaN;
let previousPrefix = '';

function secondPrefix(second: number): string {
  if (second === cachedSecond) return cachedPrefix;
  if (second === previousSecond) return previousPrefix;
  previousSecond = cachedSecond;
  previousPrefix = cachedPrefix;
  cachedSecond = second;
  cachedPrefix = new Date(second * 1000).toISOString().slice(0, 19);
  return cachedPrefix;
}

/** `2021-02-17T08:17:49.745857Z`. */
export function formatMicros(micros: number): string {
  const second = Math.floor(micros / MICROS_PER_SECOND);
  const fraction = micros - second * MICROS_PER_SECOND;
  return `${secondPrefix(second)}.${String(fraction).padStart(6, '0')}Z`;
}

/** Like formatMicros, but null and undefined pass through as null. */
export function formatMicrosOrNull(micros: number | null | undefined): string | null {
  return micros === null || micros === undefined ? null : formatMicros(micros);
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

/**
 * Parses an RFC 3339 timestamp of any fractional precision (digits past the sixth are truncated) into
 * microseconds. Returns null for anything that is not a valid date-time with a zone.
 */
export function parseTimestamp(text: string): number | null {
  const match = RFC3339.exec(text);
  if (!match) return null;
  const [, y, mo, d, h, mi, s, fraction = '', z, sign, offH, offM] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return null;
  // setUTCFullYear, unlike Date.UTC, takes years 0 to 99 as they are, not as 1900 to 1999.
  const check = new Date(0);
  check.setUTCFullYear(year, month - 1, day);
  check.setUTCHours(hour, minute, Math.min(second, 59), 0);
  const millis = check.getTime();
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1) return null;
  let micros = millis * 1000 + Number(fraction.slice(0, 6).padEnd(6, '0'));
  if (!z) {
    const offsetMinutes = Number(offH) * 60 + Number(offM);
    if (Number(offH) > 23 || Number(offM) > 59) return null;
    micros -= (sign === '-' ? -1 : 1) * offsetMinutes * 60 * MICROS_PER_SECOND;
  }
  return micros;
}

export const MICROS_PER_MILLI = 1000;
export const MICROS_PER_HOUR = 3600 * MICROS_PER_SECOND;
export const MICROS_PER_DAY = 24 * MICROS_PER_HOUR;
