import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { AppRow, Database } from '../../database/database.types.js';
import { writePrivateFile } from '../../lib/private-files.js';
import type { Clock } from '../../lib/time.js';
import type { Context } from '../../context.js';
import { readWebhookSettings, saveWebhookSettings } from '../webhooks/webhooks.repository.js';
import { findAppByKey, insertApp, lockApp, updateAppSecret } from './apps.repository.js';
import { parseAppSettingsUpdate, presentAppSettings } from './apps.settings.js';

export interface AppCredentials {
  apiKey: string;
  apiSecret: string;
}

/** A fresh key and secret: 12 and 48 characters of URL-safe randomness. */
export function generateCredentials(): AppCredentials {
  return {
    apiKey: crypto.randomBytes(9).toString('base64url'),
    apiSecret: crypto.randomBytes(36).toString('base64url'),
  };
}

export async function createApp({
  db,
  clock,
  name,
  credentials = generateCredentials(),
}: {
  db: Kysely<Database>;
  clock: Clock;
  name: string;
  credentials?: AppCredentials;
}): Promise<AppRow> {
  return insertApp(db, { ...credentials, name, createdAt: clock.nowMicros() });
}

/**
 * Makes sure the app with these credentials exists; an existing key gets the given secret, honoured at
 * once by this process and within APP_CACHE_MILLIS by others.
 */
export async function ensureApp({
  db,
  clock,
  credentials,
  name,
}: {
  db: Kysely<Database>;
  clock: Clock;
  credentials: AppCredentials;
  name: string;
}): Promise<AppRow> {
  const existing = await findAppByKey(db, credentials.apiKey);
  if (!existing) return createApp({ db, clock, name, credentials });
  if (existing.api_secret !== credentials.apiSecret) {
    await updateAppSecret(db, existing.id, credentials.apiSecret);
    return { ...existing, api_secret: credentials.apiSecret };
  }
  return existing;
}

/** Where the development app's credentials are kept, in the data dir. */
export const DEV_APP_FILE = 'dev-app.json';

/**
 * The development app: created on the first start without CHATPORT_API_KEY, its credentials kept in
 * the data dir (mode 0600, in a 0700 folder) and reused on every later start.
 */
export async function ensureDevelopmentApp({
  db,
  clock,
  dataDir,
}: {
  db: Kysely<Database>;
  clock: Clock;
  dataDir: string;
}): Promise<{ app: AppRow; created: boolean }> {
  const file = path.join(dataDir, DEV_APP_FILE);
  let credentials: AppCredentials | undefined;
  try {
    const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<AppCredentials>;
    if (typeof stored.apiKey === 'string' && typeof stored.apiSecret === 'string') {
      credentials = { apiKey: stored.apiKey, apiSecret: stored.apiSecret };
    }
  } catch {
    credentials = undefined;
  }
  const created = !credentials;
  if (!credentials) {
    credentials = generateCredentials();
    writePrivateFile(file, JSON.stringify(credentials, null, 2) + '\n');
  }
  const app = await ensureApp({ db, clock, credentials, name: 'development' });
  return { app, created };
}

/** `GET /app`: the app's settings in Stream's shape (apps.settings.ts). */
export async function getAppSettings(
  context: Pick<Context, 'db'>,
  app: Pick<AppRow, 'id' | 'name' | 'created_at'>,
) {
  return presentAppSettings(app, await readWebhookSettings(context.db, app.id));
}

/**
 * `PATCH /app`: validates the whole body first (a refused field changes nothing), then applies the
 * webhook settings in one transaction.
 */
export async function updateAppSettings(
  context: Pick<Context, 'dialect' | 'clock' | 'config'>,
  appId: number,
  body: unknown,
): Promise<void> {
  const change = parseAppSettingsUpdate(body, { allowPrivateWebhooks: context.config.webhookAllowPrivate });
  const now = context.clock.nowMicros();
  const { dialect } = context;
  await dialect.writeTransaction(async (trx) => {
    // Two updates at once would each rewrite the hooks from what they read: one waits for the other.
    await lockApp(trx, appId, dialect.rowLocks);
    await saveWebhookSettings(trx, appId, change, now);
  });
}
