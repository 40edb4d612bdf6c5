import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { DatabaseDialect } from './database/database.js';
import type { Database } from './database/database.types.js';
import type { Clock } from './lib/time.js';
import type { StorageDriver } from './modules/storage/storage.types.js';

/** The side effects a use case may need, handed in explicitly so tests can swap any of them. */
export interface Context {
  config: Config;
  dialect: DatabaseDialect;
  db: Kysely<Database>;
  clock: Clock;
  logger: Logger;
  /** Where export files are written and downloads read from (CHATPORT_STORAGE). */
  storage: StorageDriver;
}
