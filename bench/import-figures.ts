/**
 * Imports: the importer (a v2 export of the medium channel, with its users, imported into a new app)
 * beside its own bulk writer alone writing, in one transaction, every row the import left (users,
 * channel, members, messages with their final counters, reactions) read back beforehand; and that bulk
 * writer writing message rows alone beside the database's native loader writing the same rows from a CSV
 * file (`sqlite3 .import`; `COPY ... FROM STDIN` through pg-copy-streams), each into an app of its own.
 *
 * The importer's target compares it with the first floor: the same rows, so what the ratio shows is
 * the importer's own cost (reading, checking, counting). The floor of message rows alone (the target's
 * floor until issue 14's round two) stays printed: the import also writes 0.4 reactions a message, so
 * against it the importer could not reach 1.0x even at no cost of its own.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { sql } from 'kysely';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { MessageRow } from '../src/database/database.types.js';
import { createApp } from '../src/modules/apps/apps.usecases.js';
import {
  channelMuteTable,
  channelTable,
  memberTable,
  messageTable,
  reactionTable,
  userTable,
} from '../src/modules/imports/import-tables.js';
import { importLines } from '../src/modules/imports/imports.usecases.js';
import type { BenchRun } from './export-figures.js';
import { figure, type Figure } from './report.js';
import { seedMessages } from './seed-data.js';

async function newAppId(run: BenchRun, name: string): Promise<number> {
  return (await createApp({ db: run.context.db, clock: run.context.clock, name })).id;
}

function readyRows(run: BenchRun, appId: number, count: number): MessageRow[] {
  const rows: MessageRow[] = [];
  for (const batch of seedMessages({
    appId,
    cid: 'messaging:floor',
    count,
    memberCount: run.options.users,
    startAt: Date.UTC(2025, 6, 1) * 1000,
    seed: 99,
    batchSize: 20_000,
  })) {
    rows.push(...batch.messages);
  }
  return rows;
}

/** A CSV field: NULL as nothing (PostgreSQL's CSV NULL), text always quoted. */
function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  return `"${String(value).replaceAll('"', '""')}"`;
}

function writeCsv(file: string, rows: MessageRow[], columns: readonly string[]): void {
  const fd = fs.openSync(file, 'w');
  try {
    let chunk = '';
    for (const row of rows) {
      chunk += `${columns.map((c) => csvField((row as unknown as Record<string, unknown>)[c])).join(',')}\n`;
      if (chunk.length > 1 << 20) {
        fs.writeSync(fd, chunk);
        chunk = '';
      }
    }
    fs.writeSync(fd, chunk);
  } finally {
    fs.closeSync(fd);
  }
}

function runCommand(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}: ${stderr}`)),
    );
  });
}

/**
 * The native loader's rows per second for `rows`, loaded into the messages table in one transaction.
 * SQLite's CSV import reads an empty field as '' rather than NULL: the same bytes go in, which is
 * what a speed baseline needs (the rows belong to an app of their own).
 */
async function nativeLoad(bench: BenchRun, rows: MessageRow[]): Promise<number> {
  const file = path.join(bench.database.dataDir, 'native-load.csv');
  if (bench.database.dialect === 'sqlite') {
    const { rows: info } = await sql<{ name: string }>`pragma table_info(messages)`.execute(bench.context.db);
    writeCsv(
      file,
      rows,
      info.map((c) => c.name),
    );
    const started = performance.now();
    await runCommand('sqlite3', [bench.database.sqliteFile, '.mode csv', `.import ${file} messages`]);
    return rows.length / ((performance.now() - started) / 1000);
  }
  const columns = Object.keys(messageTable.columns);
  writeCsv(file, rows, columns);
  const client = new pg.Client({ connectionString: bench.database.url });
  await client.connect();
  try {
    const started = performance.now();
    await client.query('begin');
    await pipeline(
      fs.createReadStream(file),
      client.query(copyFrom(`copy messages (${columns.join(', ')}) from stdin (format csv)`)),
    );
    await client.query('commit');
    return rows.length / ((performance.now() - started) / 1000);
  } finally {
    await client.end();
    fs.rmSync(file, { force: true });
  }
}

/** The importer's tables in the order it writes them (references before the rows that name them). */
const importedTables = [userTable, channelTable, memberTable, channelMuteTable, messageTable, reactionTable];

type ImportedRows = Array<{ spec: (typeof importedTables)[number]; rows: Array<Record<string, unknown>> }>;

/** Every row the import left in `appId`, with the importer's columns, moved to `intoAppId`. */
async function importedRows(bench: BenchRun, appId: number, intoAppId: number): Promise<ImportedRows> {
  const out: ImportedRows = [];
  for (const spec of importedTables) {
    const columns = Object.keys(spec.columns);
    const rows = await bench.context.db
      .selectFrom(spec.table)
      .select(columns as never[])
      .where('app_id', '=', appId)
      .execute();
    out.push({ spec, rows: rows.map((row) => ({ ...(row as object), app_id: intoAppId })) });
  }
  return out;
}

/**
 * Writes rows the way the importer writes rows it expects to be new (insertNew, the upsert where that
 * declines), a table at a time, in chunks of 20,000, in one transaction; returns the seconds taken.
 */
async function bulkWrite(bench: BenchRun, tables: ImportedRows): Promise<number> {
  const started = performance.now();
  await bench.context.dialect.bulkWriteTransaction(async (_trx, writer) => {
    for (const { spec, rows } of tables) {
      for (let i = 0; i < rows.length; i += 20_000) {
        // The rows are each table's own, read back with its columns: the casts only erase the union.
        const request = { ...spec, rows: rows.slice(i, i + 20_000) } as unknown as Parameters<
          typeof writer.upsert
        >[0];
        if (!(await writer.insertNew(request))) await writer.upsert(request);
      }
    }
  });
  return (performance.now() - started) / 1000;
}

export async function importFigures(bench: BenchRun, exportTaskId: string): Promise<Figure[]> {
  const task = await bench.context.db
    .selectFrom('tasks')
    .select('file_key')
    .where('id', '=', exportTaskId)
    .executeTakeFirstOrThrow();
  const file = path.join(bench.database.dataDir, 'files', task.file_key!);
  const importTarget = await newAppId(bench, 'import-target');
  const started = performance.now();
  const counts = await importLines({
    dialect: bench.context.dialect,
    clock: bench.context.clock,
    appId: importTarget,
    input: fs.createReadStream(file),
    parser: bench.options.importParser,
  });
  const importSeconds = (performance.now() - started) / 1000;
  const rate = counts.messages / importSeconds;

  // The floor: every row the import left, read back beforehand, written by the bulk writer alone.
  const sameRows = await importedRows(bench, importTarget, await newAppId(bench, 'bulk-same-rows'));
  const sameRowsRate = counts.messages / (await bulkWrite(bench, sameRows));
  const sameRowsCount = sameRows.reduce((sum, { rows }) => sum + rows.length, 0);
  sameRows.length = 0;

  // The former floor, and the native loader's rows: the same number of message rows, built beforehand,
  // written by the bulk writer with the importer's table spec in one transaction, and nothing else.
  const floorRows = readyRows(bench, await newAppId(bench, 'bulk-floor'), counts.messages);
  const floorStarted = performance.now();
  await bench.context.dialect.bulkWriteTransaction(async (_trx, writer) => {
    for (let i = 0; i < floorRows.length; i += 20_000)
      await writer.upsert({ ...messageTable, rows: floorRows.slice(i, i + 20_000) });
  });
  const floorRate = counts.messages / ((performance.now() - floorStarted) / 1000);
  const nativeRate = await nativeLoad(
    bench,
    readyRows(bench, await newAppId(bench, 'native-loader'), counts.messages),
  );
  bench.log(
    `  import (parser ${bench.options.importParser ?? 'default'}): ${counts.messages} messages, ${counts.reactions} reactions, ${counts.users} users in ` +
      `${importSeconds.toFixed(1)} s: ${rate.toFixed(0)} msg/s; bulk writer alone, the import's ${sameRowsCount} rows ` +
      `${sameRowsRate.toFixed(0)} msg/s, message rows only ${floorRate.toFixed(0)} rows/s; native loader ` +
      `${nativeRate.toFixed(0)} rows/s`,
  );
  const native = bench.database.dialect === 'sqlite' ? 'sqlite3 .import of CSV' : 'COPY FROM STDIN (CSV)';
  return [
    figure(
      'ingest.import',
      `import of a v2 export (${counts.messages.toLocaleString('en-US')} messages, with reactions and users)`,
      rate,
      'msg/s',
      { label: "bulk writer alone, the import's rows ready", value: sameRowsRate },
      { text: '>= 0.8x', met: rate >= 0.8 * sameRowsRate },
    ),
    figure(
      'ingest.import-vs-messages',
      'the same import, beside message rows alone (the floor before round two)',
      rate,
      'msg/s',
      { label: 'bulk writer alone, message rows only', value: floorRate },
    ),
    figure(
      'ingest.bulk-writer',
      `bulk writer, ${counts.messages.toLocaleString('en-US')} message rows ready`,
      floorRate,
      'msg/s',
      { label: `native loader, same rows: ${native}`, value: nativeRate },
    ),
  ];
}
