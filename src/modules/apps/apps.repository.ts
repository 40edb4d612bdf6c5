import type { Kysely } from 'kysely';
import type { AppRow, Database } from '../../database/database.types.js';
import { forgetCachedApps } from './apps.cache.js';

export async function findAppByKey(db: Kysely<Database>, apiKey: string): Promise<AppRow | undefined> {
  return db.selectFrom('apps').selectAll().where('api_key', '=', apiKey).executeTakeFirst();
}

export async function insertApp(
  db: Kysely<Database>,
  app: { apiKey: string; apiSecret: string; name: string; createdAt: number },
): Promise<AppRow> {
  // On a race with another process creating the same key, the existing row wins.
  await db
    .insertInto('apps')
    .values({ api_key: app.apiKey, api_secret: app.apiSecret, name: app.name, created_at: app.createdAt })
    .onConflict((oc) => oc.column('api_key').doNothing())
    .execute();
  const row = await findAppByKey(db, app.apiKey);
  if (!row) throw new Error(`app ${app.apiKey} could not be created`);
  return row;
}

/** Rotates an app's secret: this process sees it at once, others within APP_CACHE_MILLIS. */
export async function updateAppSecret(db: Kysely<Database>, appId: number, apiSecret: string): Promise<void> {
  await db.updateTable('apps').set({ api_secret: apiSecret }).where('id', '=', appId).execute();
  forgetCachedApps(db);
}

/** An app by its numeric id (`apps.id`), as tasks and stored rows name it. */
export async function findAppById(db: Kysely<Database>, appId: number): Promise<AppRow | undefined> {
  return db.selectFrom('apps').selectAll().where('id', '=', appId).executeTakeFirst();
}

/**
 * Holds an app's row until the transaction `db` ends, so that changes to the app's settings made at
 * once queue behind each other. `rowLocks`: the database has row locks (PostgreSQL); SQLite's write
 * transaction already holds the whole database.
 */
export async function lockApp(db: Kysely<Database>, appId: number, rowLocks: boolean): Promise<void> {
  await db
    .selectFrom('apps')
    .select('id')
    .where('id', '=', appId)
    .$if(rowLocks, (query) => query.forUpdate())
    .execute();
}
