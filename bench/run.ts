/**
 * `npm run bench`: seeds a fresh database, starts chatport as an operator would (`chatport serve`
 * without a worker, and `chatport worker` processes), and measures exports, memory, queue pickup, the
 * status route under load and ingest, each beside a baseline measured in the same run. SQLite by
 * default; PostgreSQL when DATABASE_URL is set (a database of its own is created and dropped).
 * `npm run bench -- --help` lists the options; `--quick` is a smoke run.
 */
import { sql } from 'kysely';
import { loadConfig } from '../src/config.js';
import type { Context } from '../src/context.js';
import { createApp } from '../src/modules/apps/apps.usecases.js';
import { closeContext, createContext } from '../src/runtime.js';
import { runExport, sdkClient, type App } from './api-client.js';
import { createBenchDatabase } from './bench-database.js';
import { parseBenchOptions } from './bench-options.js';
import { exportFigures, pickupFigures, type BenchRun } from './export-figures.js';
import { historyFigures } from './history-figures.js';
import { hugeFigures } from './huge-figures.js';
import { importFigures } from './import-figures.js';
import { ingestFigures } from './ingest-figures.js';
import { profileChildrenInto, startServer, startWorker, type Child } from './processes.js';
import { describeMachine, markdownTable, saveResults, textTable, type Figure } from './report.js';
import { s3Figures } from './s3-figures.js';
import { seedUsersAndChannels } from './seed.js';
import { statusFigures } from './status-figures.js';
import { writeFigures } from './write-figures.js';

const options = parseBenchOptions(process.argv);
profileChildrenInto(options.cpuProf);
const startedAt = new Date();
const clockStart = performance.now();
const seconds = () => (performance.now() - clockStart) / 1000;
const log = (message: string) => console.log(`[${seconds().toFixed(0).padStart(4)} s] ${message}`);

async function databaseVersion(context: Context): Promise<string> {
  if (context.dialect.name === 'sqlite') {
    const { rows } = await sql<{ v: string }>`select sqlite_version() as v`.execute(context.db);
    return `SQLite ${rows[0]!.v}`;
  }
  const { rows } = await sql<{ v: string }>`show server_version`.execute(context.db);
  return `PostgreSQL ${Object.values(rows[0]!)[0]}`;
}

/** An export run on a worker of its own, for figures whose groups were left out. */
async function exportOnce(run: BenchRun, cid: string, exportUsers: boolean): Promise<string> {
  const worker = await startWorker(run.env);
  try {
    return (await runExport(run.client, cid, { version: 'v2', export_users: exportUsers })).taskId;
  } finally {
    await worker.stop();
  }
}

const database = await createBenchDatabase(process.env.DATABASE_URL);
let context: Context | undefined;
let server: (Child & { url: string }) | undefined;
try {
  log(`${database.dialect}, data in ${database.dataDir}${options.quick ? ' (quick)' : ''}`);
  context = await createContext(
    loadConfig({
      CHATPORT_DATA_DIR: database.dataDir,
      DATABASE_URL: database.url,
      CHATPORT_LOG_LEVEL: 'warn',
    }),
  );
  const machine = describeMachine(await databaseVersion(context));
  const row = await createApp({ db: context.db, clock: context.clock, name: 'bench' });
  const app: App = { id: row.id, apiKey: row.api_key, apiSecret: row.api_secret };

  const total = options.messages + options.mediumMessages + options.smallMessages + 10;
  log(`seeding ${options.users.toLocaleString('en-US')} users and ${total.toLocaleString('en-US')} messages`);
  const seedStart = performance.now();
  let reported = 0;
  const [large, medium, small, tiny] = await seedUsersAndChannels(
    context.dialect,
    app.id,
    {
      users: options.users,
      channels: [
        { id: 'bench-large', messages: options.messages, members: options.users },
        { id: 'bench-medium', messages: options.mediumMessages, members: options.users },
        { id: 'bench-small', messages: options.smallMessages, members: 50 },
        { id: 'bench-tiny', messages: 10, members: 5 },
      ],
    },
    (done) => {
      if (done - reported >= 250_000) {
        reported = done;
        log(`  ${done.toLocaleString('en-US')} messages`);
      }
    },
  );
  const seedSeconds = (performance.now() - seedStart) / 1000;
  log(
    `seeded in ${seedSeconds.toFixed(1)} s (${Math.round(total / seedSeconds).toLocaleString('en-US')} messages/s)`,
  );

  const env = {
    dataDir: database.dataDir,
    databaseUrl: database.url,
    apiKey: app.apiKey,
    apiSecret: app.apiSecret,
  };
  server = await startServer(env, { worker: false });
  log(`chatport serve (no worker) at ${server.url}`);
  const run: BenchRun = {
    options,
    database,
    env,
    app,
    client: sdkClient(app, server.url),
    context,
    channels: { large: large!, medium: medium!, small: small!, tiny: tiny! },
    log,
  };
  const figures: Figure[] = [];
  let importInput: string | undefined;
  let completedTask: string | undefined;
  if (options.only.includes('exports')) {
    const result = await exportFigures(run);
    figures.push(...result.figures);
    importInput = result.mediumWithUsersTaskId;
  }
  if (options.only.includes('s3')) figures.push(...(await s3Figures(run)));
  if (options.only.includes('pickup')) {
    const result = await pickupFigures(run);
    figures.push(...result.figures);
    completedTask = result.completedTaskId;
  }
  if (options.only.includes('status')) {
    completedTask ??= await exportOnce(run, run.channels.tiny.cid, false);
    figures.push(...(await statusFigures(run, server.url, completedTask)));
  }
  if (options.only.includes('writes') && !options.only.includes('ingest'))
    figures.push(...(await writeFigures(run, server.url)));
  if (options.only.includes('ingest') || options.only.includes('import')) {
    importInput ??= await exportOnce(run, run.channels.medium.cid, true);
    figures.push(
      ...(options.only.includes('ingest')
        ? await ingestFigures(run, server.url, importInput)
        : await importFigures(run, importInput)),
    );
  }
  if (options.only.includes('history')) figures.push(...(await historyFigures(run)));
  if (options.huge) figures.push(...(await hugeFigures(run)));

  const elapsed = seconds();
  console.log(
    `\nchatport bench, ${database.dialect}: ${machine.cpus} CPUs (${machine.cpuModel}), ` +
      `${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.database}; ${elapsed.toFixed(0)} s in all\n`,
  );
  console.log(textTable(figures));
  console.log(`\n${markdownTable(figures)}\n`);
  if (options.save) {
    const file = saveResults({
      dialect: database.dialect,
      startedAt,
      seconds: elapsed,
      machine,
      options,
      figures,
    });
    log(`saved ${file}`);
  }
  const missed = figures.filter((f) => f.target && !f.target.met);
  if (missed.length > 0) log(`targets not met: ${missed.map((f) => f.key).join(', ')}`);
} finally {
  await server?.stop();
  if (context) await closeContext(context);
  if (options.keep) log(`kept ${database.dataDir}${database.url ? ` and ${database.url}` : ''}`);
  else await database.drop();
}
