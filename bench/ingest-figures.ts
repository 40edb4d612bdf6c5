/**
 * Figure 5: messages in per second, through the API (POST /channels/{type}/{id}/message, a few
 * requests in flight) beside the same requests to a bare Fastify route, and through the importer
 * (a v2 export of the medium channel, with its users, imported into a new app) beside the bulk writer
 * alone writing as many ready-made message rows in one transaction, as the importer does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createApp } from '../src/modules/apps/apps.usecases.js';
import { messageTable } from '../src/modules/imports/import-tables.js';
import { importLines } from '../src/modules/imports/imports.usecases.js';
import { serverAuth, type App } from './api-client.js';
import type { BenchRun } from './export-figures.js';
import { startHelloWorld } from './processes.js';
import { figure, type Figure } from './report.js';
import { seedMessages } from './seed-data.js';

/** Sends `total` POSTs with `concurrency` in flight; resolves with requests per second. */
async function postMany(
  url: (i: number) => string,
  body: (i: number) => string,
  headers: Record<string, string>,
  total: number,
  concurrency: number,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const response = await fetch(url(i), { method: 'POST', headers, body: body(i) });
        if (!response.ok) throw new Error(`POST ${url(i)}: ${response.status} ${await response.text()}`);
        await response.arrayBuffer();
      }
    }),
  );
  return (total / (performance.now() - started)) * 1000;
}

async function apiIngest(run: BenchRun, serverUrl: string): Promise<Figure> {
  const { apiMessages: total, apiConcurrency: concurrency } = run.options;
  await run.client.channel('messaging', 'ingest', { created_by_id: 'user-0000' } as never).create();
  const auth = await serverAuth(run.app);
  const body = (i: number) =>
    JSON.stringify({
      message: {
        text: `message ${i} of the ingest benchmark`,
        user_id: `user-${String(i % 10).padStart(4, '0')}`,
      },
    });
  const hello = await startHelloWorld();
  let baseline: number;
  try {
    await postMany(() => `${hello.url}/echo`, body, auth.headers, Math.min(200, total), concurrency);
    baseline = await postMany(() => `${hello.url}/echo`, body, auth.headers, total, concurrency);
  } finally {
    await hello.stop();
  }
  const url = `${serverUrl}/channels/messaging/ingest/message?${auth.query}`;
  const rate = await postMany(() => url, body, auth.headers, total, concurrency);
  run.log(`  API: ${rate.toFixed(0)} messages/s (bare route: ${baseline.toFixed(0)} requests/s)`);
  return figure(
    'ingest.api',
    `POST .../message, ${total.toLocaleString('en-US')} messages, ${concurrency} in flight`,
    rate,
    'msg/s',
    { label: 'same POSTs to a bare Fastify route', value: baseline },
  );
}

async function newApp(run: BenchRun, name: string): Promise<App> {
  const row = await createApp({ db: run.context.db, clock: run.context.clock, name });
  return { id: row.id, apiKey: row.api_key, apiSecret: row.api_secret };
}

async function bulkIngest(run: BenchRun, exportTaskId: string): Promise<Figure> {
  const task = await run.context.db
    .selectFrom('tasks')
    .select('file_key')
    .where('id', '=', exportTaskId)
    .executeTakeFirstOrThrow();
  const file = path.join(run.database.dataDir, 'files', task.file_key!);
  const importTarget = await newApp(run, 'import-target');
  const started = performance.now();
  const counts = await importLines({
    dialect: run.context.dialect,
    clock: run.context.clock,
    appId: importTarget.id,
    input: fs.createReadStream(file),
  });
  const importSeconds = (performance.now() - started) / 1000;
  const rate = counts.messages / importSeconds;

  // The floor: the same number of message rows, built beforehand, written as the importer writes its
  // messages (the bulk writer, the importer's table spec, one transaction) and nothing else.
  const floorTarget = await newApp(run, 'bulk-floor');
  const batches = [
    ...seedMessages({
      appId: floorTarget.id,
      cid: 'messaging:floor',
      count: counts.messages,
      memberCount: run.options.users,
      startAt: Date.UTC(2025, 6, 1) * 1000,
      seed: 99,
      batchSize: 20_000,
    }),
  ];
  const floorStarted = performance.now();
  await run.context.dialect.bulkWriteTransaction(async (_trx, writer) => {
    for (const batch of batches) await writer.upsert({ ...messageTable, rows: batch.messages });
  });
  const floorRate = counts.messages / ((performance.now() - floorStarted) / 1000);
  run.log(
    `  import: ${counts.messages} messages, ${counts.reactions} reactions, ${counts.users} users in ` +
      `${importSeconds.toFixed(1)} s: ${rate.toFixed(0)} messages/s (bulk writer alone: ${floorRate.toFixed(0)} rows/s)`,
  );
  return figure(
    'ingest.import',
    `import of a v2 export (${counts.messages.toLocaleString('en-US')} messages, with reactions and users)`,
    rate,
    'msg/s',
    { label: 'bulk writer alone, rows ready', value: floorRate },
    // The 200,000 messages/s target is SQLite's; on PostgreSQL the figure stands without one.
    run.database.dialect === 'sqlite' ? { text: '>= 200,000 msg/s', met: rate >= 200_000 } : undefined,
  );
}

export async function ingestFigures(
  run: BenchRun,
  serverUrl: string,
  exportTaskId: string,
): Promise<Figure[]> {
  run.log('ingest: through the API, then the importer');
  return [await apiIngest(run, serverUrl), await bulkIngest(run, exportTaskId)];
}
