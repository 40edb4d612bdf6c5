/**
 * `chatport import <file> --api-key KEY`: the CLI face of importLines. A progress bar on a terminal,
 * a plain line at most every few seconds otherwise (logs, CI), and a summary at the end.
 */
import fs from 'node:fs';
import cliProgress from 'cli-progress';
import { InvalidArgumentError } from 'commander';
import type { Context } from '../../context.js';
import { findAppByKey } from '../apps/apps.repository.js';
import type { ImportCounts } from './import-batch.js';
import { importLines, type ImportProgress, type ParserMode } from './imports.usecases.js';

const PLAIN_PROGRESS_EVERY_MS = 5000;

export interface ImportCommandOptions {
  /** A path, or `-` for standard input. */
  file: string;
  apiKey: string;
  batchSize?: number;
  /** Where lines are parsed (ImportOptions.parser). Default auto on PostgreSQL, inline on SQLite. */
  parser?: ParserMode;
  /** Where progress goes; a TTY gets a bar. Default process.stderr. */
  progressStream?: NodeJS.WriteStream;
}

function describeCounts(counts: ImportCounts): string {
  return Object.entries(counts)
    .map(([type, n]) => `${n} ${type.replaceAll('_', ' ')}`)
    .join(', ');
}

/** `--batch-size`: a whole number of lines, at least 1. */
export function parseBatchSize(value: string): number {
  const size = Number(value);
  if (!Number.isInteger(size) || size < 1)
    throw new InvalidArgumentError('must be a whole number of lines, at least 1');
  return size;
}

const PARSER_MODES: readonly ParserMode[] = ['auto', 'thread', 'inline'];

/** `--parser`: auto, thread or inline. */
export function parseParserMode(value: string): ParserMode {
  if (!(PARSER_MODES as readonly string[]).includes(value))
    throw new InvalidArgumentError(`must be one of ${PARSER_MODES.join(', ')}`);
  return value as ParserMode;
}

/** Runs the import and reports it; resolves to the process exit code. */
export async function runImportCommand(context: Context, options: ImportCommandOptions): Promise<number> {
  const app = await findAppByKey(context.db, options.apiKey);
  if (!app) {
    console.error(`chatport: no app has the api key ${options.apiKey}`);
    return 1;
  }
  const fromStdin = options.file === '-';
  if (!fromStdin && !fs.existsSync(options.file)) {
    console.error(`chatport: ${options.file} does not exist`);
    return 1;
  }
  const totalBytes = fromStdin ? undefined : fs.statSync(options.file).size;
  const stream = options.progressStream ?? process.stderr;
  const startedAt = performance.now();
  const seconds = () => (performance.now() - startedAt) / 1000;
  const rate = (messages: number) => Math.round(messages / Math.max(seconds(), 0.001));

  const bar =
    stream.isTTY && totalBytes !== undefined
      ? new cliProgress.SingleBar(
          {
            stream,
            format: 'importing [{bar}] {percentage}% | {lines} lines | {messages} messages/s',
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  bar?.start(totalBytes!, 0, { lines: 0, messages: 0 });
  let lastPlainReport = performance.now();
  const onProgress = (progress: ImportProgress) => {
    if (bar) {
      bar.update(progress.bytesRead, { lines: progress.lines, messages: rate(progress.counts.messages) });
      return;
    }
    if (performance.now() - lastPlainReport < PLAIN_PROGRESS_EVERY_MS) return;
    lastPlainReport = performance.now();
    const share = totalBytes ? ` (${Math.floor((100 * progress.bytesRead) / totalBytes)}%)` : '';
    stream.write(`chatport: ${progress.lines} lines written${share}: ${describeCounts(progress.counts)}\n`);
  };

  try {
    const counts = await importLines({
      dialect: context.dialect,
      clock: context.clock,
      appId: app.id,
      input: fromStdin ? process.stdin : fs.createReadStream(options.file),
      batchSize: options.batchSize,
      parser: options.parser,
      onProgress,
    });
    bar?.stop();
    console.log(
      `chatport: imported ${describeCounts(counts)} in ${seconds().toFixed(1)}s ` +
        `(${rate(counts.messages)} messages/s)`,
    );
    return 0;
  } catch (error) {
    bar?.stop();
    console.error(`chatport: import failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}
