import { Command } from 'commander';
import { loadConfig } from './config.js';
import { createApp } from './modules/apps/apps.usecases.js';
import { parseBatchSize, parseParserMode, runImportCommand } from './modules/imports/import-command.js';
import type { ParserMode } from './modules/imports/imports.usecases.js';
import { closeContext, createContext, ensureStartupApp, startServer, startTaskWorker } from './runtime.js';

function onShutdown(close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`chatport: ${signal} received, shutting down`);
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('chatport')
    .description('Self-hostable chat data server speaking Stream Chat’s server-side API, with exports.');

  program
    .command('serve')
    .description('start the API with an in-process task worker (CHATPORT_PORT, default 3030)')
    .action(async () => {
      const config = loadConfig();
      const server = await startServer(config);
      const app = await ensureStartupApp(server.context);
      if (app.created) {
        console.log(`chatport: created a development app (kept in ${config.dataDir}/dev-app.json)`);
      }
      console.log(`chatport: listening on ${server.url} (database: ${server.context.dialect.name})`);
      console.log(`chatport: api key    ${app.apiKey}`);
      console.log(`chatport: api secret ${app.apiSecret}`);
      onShutdown(() => server.close());
    });

  program
    .command('worker')
    .description('run only the task worker (CHATPORT_WORKER_CONCURRENCY tasks at once), no API')
    .action(async () => {
      const context = await createContext(loadConfig());
      const worker = startTaskWorker(context);
      console.log(`chatport: task worker ${worker.id} running (database: ${context.dialect.name})`);
      onShutdown(async () => {
        await worker.stop();
        await closeContext(context);
      });
    });

  program
    .command('migrate')
    .description('bring the database schema up to date and exit')
    .action(async () => {
      const context = await createContext(loadConfig());
      console.log(`chatport: ${context.dialect.name} database is up to date`);
      await closeContext(context);
    });

  const appCommand = program.command('app').description('manage apps (API key and secret pairs)');
  appCommand
    .command('create')
    .description('create a new app and print its key and secret')
    .option('-n, --name <name>', 'a name for the app', 'app')
    .action(async (options: { name: string }) => {
      const context = await createContext(loadConfig({ ...process.env, CHATPORT_LOG_LEVEL: 'warn' }));
      try {
        const app = await createApp({ db: context.db, clock: context.clock, name: options.name });
        console.log(JSON.stringify({ api_key: app.api_key, api_secret: app.api_secret, name: app.name }));
      } finally {
        await closeContext(context);
      }
    });

  program
    .command('import')
    .description('import a file of Stream import lines (a v2 export) into an app; see docs/imports.md')
    .argument('<file>', 'the file to import, or - for standard input')
    .requiredOption('--api-key <key>', 'the app the data goes to')
    .option(
      '--batch-size <lines>',
      'lines held in memory and written at a time (default 5000); the import is one transaction',
      parseBatchSize,
    )
    .option(
      '--parser <where>',
      'where lines are parsed: auto (a thread of its own once the file is longer than a batch), ' +
        'thread, or inline (default auto on PostgreSQL, inline on SQLite)',
      parseParserMode,
    )
    .action(async (file: string, options: { apiKey: string; batchSize?: number; parser?: ParserMode }) => {
      const context = await createContext(loadConfig({ ...process.env, CHATPORT_LOG_LEVEL: 'warn' }));
      try {
        process.exitCode = await runImportCommand(context, { file, ...options });
      } finally {
        await closeContext(context);
      }
    });

  await program.parseAsync(argv);
}
