import path from 'node:path';
import type { DatabaseDialect } from './dialects/dialect.js';
import { createPostgresDialect } from './dialects/postgres.js';
import { createSqliteDialect } from './dialects/sqlite.js';

export type { DatabaseDialect, DialectName } from './dialects/dialect.js';
export { sqliteFilesOf } from './dialects/sqlite.js';

/** The embedded database's file when DATABASE_URL names none: `<dataDir>/chatport.sqlite`. */
export function defaultSqliteFile(dataDir: string): string {
  return path.join(dataDir, 'chatport.sqlite');
}

export interface DatabaseConfig {
  /** `postgres://...` for PostgreSQL; otherwise the embedded SQLite file under the data dir. */
  databaseUrl: string | undefined;
  dataDir: string;
}

/** Picks the dialect from the URL: postgres(ql):// is PostgreSQL, anything else (or none) is SQLite. */
export function openDatabase(config: DatabaseConfig): DatabaseDialect {
  const url = config.databaseUrl;
  if (url && /^postgres(ql)?:\/\//.test(url)) return createPostgresDialect(url);
  if (url && url.startsWith('sqlite:')) return createSqliteDialect(url.slice('sqlite:'.length));
  return createSqliteDialect(defaultSqliteFile(config.dataDir));
}
