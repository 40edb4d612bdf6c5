import path from 'node:path';
import type { DatabaseDialect } from './dialects/dialect.js';
import { createPostgresDialect } from './dialects/postgres.js';
import { createSqliteDialect } from './dialects/sqlite.js';

export type { DatabaseDialect, DatabaseErrorKind, DialectName } from './dialects/dialect.js';
export { sqliteFilesOf } from './dialects/sqlite.js';

/** The embedded database's file when DATABASE_URL names none: `<dataDir>/chatport.sqlite`. */
export function defaultSqliteFile(dataDir: string): string {
  return path.join(dataDir, 'chatport.sqlite');
}

export interface DatabaseConfig {
  /** `postgres://...` for PostgreSQL; otherwise the embedded SQLite file under the data dir. */
  databaseUrl: string | undefined;
  /** CHATPORT_DATABASE_READ_URL: a PostgreSQL read replica for exports (PostgreSQL only). */
  databaseReadUrl?: string | undefined;
  /** CHATPORT_DATABASE_POOL_SIZE: connections per pool (PostgreSQL). */
  databasePoolSize?: number;
  dataDir: string;
}

/** Picks the dialect from the URL: postgres(ql):// is PostgreSQL, anything else (or none) is SQLite. */
export function openDatabase(config: DatabaseConfig): DatabaseDialect {
  const url = config.databaseUrl;
  const postgres = (candidate: string | undefined) =>
    candidate !== undefined && /^postgres(ql)?:\/\//.test(candidate);
  if (config.databaseReadUrl && !(postgres(url) && postgres(config.databaseReadUrl))) {
    throw new Error('CHATPORT_DATABASE_READ_URL needs DATABASE_URL and itself to be postgres:// URLs');
  }
  if (postgres(url)) {
    return createPostgresDialect(url!, {
      poolSize: config.databasePoolSize,
      readUrl: config.databaseReadUrl,
    });
  }
  if (url && url.startsWith('sqlite:')) return createSqliteDialect(url.slice('sqlite:'.length));
  return createSqliteDialect(defaultSqliteFile(config.dataDir));
}
