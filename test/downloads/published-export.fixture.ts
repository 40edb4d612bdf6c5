import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect } from 'vitest';
import type { AppRow, TaskRow } from '../../src/database/database.types.js';
import { MICROS_PER_DAY } from '../../src/lib/time.js';
import { exportFileKey } from '../../src/modules/storage/storage.keys.js';
import type { TestServer } from '../helpers/test-server.js';

/** The app row behind a test app's key: downloads sign with its numeric id and secret. */
export async function appRow(t: TestServer, apiKey = t.app.apiKey): Promise<AppRow> {
  return t.server.context.db
    .selectFrom('apps')
    .selectAll()
    .where('api_key', '=', apiKey)
    .executeTakeFirstOrThrow();
}

/**
 * What a completed export leaves behind, made directly (no export endpoint yet): the file written
 * through the storage driver and a `completed` task row naming it, kept for the configured retention.
 */
export async function publishExport(
  t: TestServer,
  app: AppRow,
  { filename = 'channels.json', content }: { filename?: string; content: Buffer },
): Promise<TaskRow> {
  const { db, storage, clock, config } = t.server.context;
  const taskId = crypto.randomUUID();
  const key = exportFileKey({ appId: app.id, taskId, filename });
  const write = await storage.openWrite(key);
  try {
    await pipeline(Readable.from([content]), write.stream);
    await write.commit();
  } finally {
    await write.abort();
  }
  const now = clock.nowMicros();
  return db
    .insertInto('tasks')
    .values({
      id: taskId,
      app_id: app.id,
      kind: 'export-channels',
      status: 'completed',
      payload: '{}',
      result: '{}',
      error: null,
      attempt: 1,
      max_attempts: 5,
      run_after: now,
      lease_owner: null,
      lease_expires_at: null,
      created_at: now,
      updated_at: now,
      started_at: now,
      finished_at: now,
      file_key: key,
      file_expires_at: now + config.retentionDays * MICROS_PER_DAY,
      file_deleted_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Stream's error body, as every refusal carries it. */
export async function errorOf(
  response: Response,
): Promise<{ code: number; StatusCode: number; message: string }> {
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return (await response.json()) as { code: number; StatusCode: number; message: string };
}
