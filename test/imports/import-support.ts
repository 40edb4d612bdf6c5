import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { Context } from '../../src/context.js';
import type { Database } from '../../src/database/database.types.js';
import { findAppByKey } from '../../src/modules/apps/apps.repository.js';
import { importLines, type ImportOptions } from '../../src/modules/imports/imports.usecases.js';

export const SMALL_V2_FILE = path.resolve('test/fixtures/imports/small.v2.jsonl');

export async function appIdOf(context: Context, apiKey: string): Promise<number> {
  const app = await findAppByKey(context.db, apiKey);
  if (!app) throw new Error(`no app with key ${apiKey}`);
  return app.id;
}

/** `{"type","data"}` lines, newline-terminated. */
export function linesOf(entries: Array<{ type: string; data: Record<string, unknown> }>): string {
  return entries.map((entry) => `${JSON.stringify(entry)}\n`).join('');
}

/** Imports text the way a file arrives: a byte stream cut into small chunks. */
export function importText(
  context: Context,
  appId: number,
  text: string,
  options: Partial<ImportOptions> = {},
): ReturnType<typeof importLines> {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 97) chunks.push(bytes.subarray(i, i + 97));
  return importLines({
    dialect: context.dialect,
    clock: context.clock,
    appId,
    input: Readable.from(chunks),
    ...options,
  });
}

export function importFile(
  context: Context,
  appId: number,
  file: string,
  options: Partial<ImportOptions> = {},
) {
  return importLines({
    dialect: context.dialect,
    clock: context.clock,
    appId,
    input: fs.createReadStream(file),
    ...options,
  });
}

/** Every stored row of the app's chat data, in key order: the ground truth to compare states with. */
export async function snapshot(db: Kysely<Database>, appId: number) {
  return {
    users: await db.selectFrom('users').selectAll().where('app_id', '=', appId).orderBy('id').execute(),
    channels: await db
      .selectFrom('channels')
      .selectAll()
      .where('app_id', '=', appId)
      .orderBy('cid')
      .execute(),
    members: await db
      .selectFrom('members')
      .selectAll()
      .where('app_id', '=', appId)
      .orderBy('cid')
      .orderBy('user_id')
      .execute(),
    messages: await db.selectFrom('messages').selectAll().where('app_id', '=', appId).orderBy('id').execute(),
    channelMutes: await db
      .selectFrom('channel_mutes')
      .select(['app_id', 'user_id', 'cid', 'created_at', 'updated_at', 'expires_at'])
      .where('app_id', '=', appId)
      .orderBy('cid')
      .orderBy('user_id')
      .execute(),
    reactions: await db
      .selectFrom('reactions')
      .selectAll()
      .where('app_id', '=', appId)
      .orderBy('message_id')
      .orderBy('user_id')
      .orderBy('type')
      .execute(),
  };
}
