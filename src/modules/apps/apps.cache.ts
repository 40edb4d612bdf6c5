import type { Kysely } from 'kysely';
import type { AppRow, Database } from '../../database/database.types.js';
import type { Clock } from '../../lib/time.js';

/**
 * Default for how long a cached app row is trusted (10 s): the longest another process's change to an
 * app (a rotated secret) can go unnoticed by this one. Changes made in this process are seen at once.
 */
export const APP_CACHE_MILLIS = 10_000;

const MAX_CACHED_APPS = 1000;

interface CachedApp {
  app: AppRow;
  /** Microseconds, from the injected clock. */
  readAt: number;
}

interface CachedApps {
  rows: Map<string, CachedApp>;
  /** Moves on every forget, so a read that raced with a write is not cached. */
  generation: number;
}

/**
 * The cached rows of every app cache over one database handle. App writes in this process
 * (apps.repository.ts) empty it, so only other processes' writes wait for the cache to expire.
 */
const cachesByDatabase = new WeakMap<Kysely<Database>, CachedApps>();

function cachedAppsOf(db: Kysely<Database>): CachedApps {
  let cached = cachesByDatabase.get(db);
  if (!cached) cachesByDatabase.set(db, (cached = { rows: new Map(), generation: 0 }));
  return cached;
}

/** Forgets every app row cached for `db`: every change to an app made through `db` calls it. */
export function forgetCachedApps(db: Kysely<Database>): void {
  const cached = cachesByDatabase.get(db);
  if (!cached) return;
  cached.rows.clear();
  cached.generation += 1;
}

export interface AppCache {
  /** The cached row of `apiKey` if it was read less than `ttlMillis` ago; no database work. */
  peek(apiKey: string): AppRow | undefined;
  /** The row of `apiKey`, from the cache or else from the database. Unknown keys are not cached. */
  get(apiKey: string): Promise<AppRow | undefined>;
}

/**
 * Apps by api_key, for authentication: apps change rarely, and reading the row on every request
 * costs a query. A key unknown to the database is not remembered, so an app created by another
 * process works at once; a known key is read again after `ttlMillis` (default APP_CACHE_MILLIS).
 */
export function createAppCache({
  db,
  clock,
  load,
  ttlMillis = APP_CACHE_MILLIS,
}: {
  db: Kysely<Database>;
  clock: Clock;
  /** Reads an app's row from `db` (findAppByKey). */
  load: (apiKey: string) => Promise<AppRow | undefined>;
  ttlMillis?: number;
}): AppCache {
  const cached = cachedAppsOf(db);
  const rows = cached.rows;
  const ttlMicros = ttlMillis * 1000;

  function peek(apiKey: string): AppRow | undefined {
    const entry = rows.get(apiKey);
    if (entry === undefined) return undefined;
    const age = clock.nowMicros() - entry.readAt;
    // A clock set back (tests, or a system clock corrected) must not keep a row forever.
    return age >= 0 && age < ttlMicros ? entry.app : undefined;
  }

  async function get(apiKey: string): Promise<AppRow | undefined> {
    const fresh = peek(apiKey);
    if (fresh) return fresh;
    const readAt = clock.nowMicros();
    const generation = cached.generation;
    const row = await load(apiKey);
    if (generation !== cached.generation) return row;
    if (row) {
      if (rows.size >= MAX_CACHED_APPS) rows.clear();
      rows.set(apiKey, { app: row, readAt });
    } else rows.delete(apiKey);
    return row;
  }

  return { peek, get };
}
