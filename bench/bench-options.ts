/**
 * `npm run bench -- [options]`: the sizes and switches of one benchmark run, each with its default.
 * `--quick` divides every size by ten (a smoke run of a minute or two); an explicit flag still wins.
 */
import { Command, InvalidArgumentError } from 'commander';

/**
 * `writes` and `import` are the two halves of `ingest` alone. `huge` (figure 6) runs only when named
 * here or with `--huge`: `--only huge` is the huge export alone.
 */
export const FIGURE_GROUPS = [
  'exports',
  's3',
  'pickup',
  'status',
  'ingest',
  'writes',
  'import',
  'history',
  'huge',
] as const;
export type FigureGroup = (typeof FIGURE_GROUPS)[number];

export interface BenchOptions {
  quick: boolean;
  /** Messages in the large channel (figure 1 and the 1M memory figure). Default 1,000,000. */
  messages: number;
  /** Messages in the medium channel (the 100k memory figure, and the import's input). Default 100,000. */
  mediumMessages: number;
  /** Messages in the small channel of the end-to-end figure. Default 1,000. */
  smallMessages: number;
  /** Users (all members of the large and medium channels). Default 1,000. */
  users: number;
  /** Small exports whose queue pickup is measured. Default 200. */
  pickups: number;
  /** Exports of the small channel timed end to end. Default 20. */
  smallExports: number;
  /** Seconds of each autocannon run. Default 10. */
  loadSeconds: number;
  /** Concurrent connections of the autocannon runs; each count is a run of its own. Default 10 and 100. */
  loadConnections: number[];
  /** Messages sent through POST /channels/{type}/{id}/message in each run of each case. Default 2,000. */
  apiMessages: number;
  /** Rounds of the export figures (dump and exports of each size); medians are reported. Default 3. */
  repeat: number;
  /** Figure groups to run. Default all but `huge`. */
  only: FigureGroup[];
  /**
   * Also seed a channel of ten times `messages` inside the database and export it once (figure 6):
   * minutes, and gigabytes of disk. Default false.
   */
  huge: boolean;
  /** Keep the data directory (and PostgreSQL database) for inspection. Default false. */
  keep: boolean;
  /** Write bench/results/<time>-<dialect>.json. Default true. */
  save: boolean;
  /** Directory the chatport processes write V8 CPU profiles to (one per process and thread). */
  cpuProf: string | undefined;
  /** Where the importer parses lines (ImportOptions.parser). Default: the importer's own. */
  importParser: 'auto' | 'thread' | 'inline' | undefined;
}

function count(value: string): number {
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number, at least 1');
  return n;
}

function counts(value: string): number[] {
  return value.split(',').map((part) => count(part.trim()));
}

function groups(value: string): FigureGroup[] {
  const list = value.split(',').map((part) => part.trim());
  for (const group of list) {
    if (!(FIGURE_GROUPS as readonly string[]).includes(group))
      throw new InvalidArgumentError(`must be some of ${FIGURE_GROUPS.join(', ')}`);
  }
  return list as FigureGroup[];
}

function parserMode(value: string): NonNullable<BenchOptions['importParser']> {
  if (value !== 'auto' && value !== 'thread' && value !== 'inline')
    throw new InvalidArgumentError('must be auto, thread or inline');
  return value;
}

export function parseBenchOptions(argv: string[]): BenchOptions {
  const program = new Command()
    .name('npm run bench --')
    .description(
      'Seeds its own data, measures chatport beside baselines run alike, prints a table and saves it ' +
        '(SQLite; PostgreSQL when DATABASE_URL is set).',
    )
    .option('--quick', 'every size divided by ten, for a smoke run', false)
    .option('--messages <n>', 'messages in the large channel', count)
    .option('--medium-messages <n>', 'messages in the medium channel', count)
    .option('--small-messages <n>', 'messages in the small channel', count)
    .option('--users <n>', 'users, all members of the large and medium channels', count)
    .option('--pickups <n>', 'small exports whose queue pickup is measured', count)
    .option('--small-exports <n>', 'exports of the small channel timed end to end', count)
    .option('--load-seconds <n>', 'seconds of each autocannon run', count)
    .option('--load-connections <n,...>', 'connections of the autocannon runs, one run each', counts)
    .option('--api-messages <n>', 'messages sent through the API', count)
    .option('--repeat <n>', 'rounds of the export figures (medians are reported)', count)
    .option('--only <groups>', `figure groups to run: ${FIGURE_GROUPS.join(',')}`, groups)
    .option('--huge', 'also export a channel of ten times --messages, seeded in the database', false)
    .option('--keep', 'keep the data directory and database', false)
    .option('--no-save', 'do not write a results file')
    .option('--cpu-prof <dir>', 'chatport processes write V8 CPU profiles (.cpuprofile) into this directory')
    .option('--import-parser <where>', 'where the importer parses lines: auto, thread or inline', parserMode)
    .parse(argv);
  const o = program.opts<Partial<Record<string, unknown>>>();
  const quick = o.quick === true;
  const only = (o.only as FigureGroup[] | undefined) ?? FIGURE_GROUPS.filter((group) => group !== 'huge');
  const size = (flag: unknown, full: number, minimum = 1) =>
    typeof flag === 'number' ? flag : quick ? Math.max(minimum, Math.round(full / 10)) : full;
  return {
    quick,
    messages: size(o.messages, 1_000_000),
    mediumMessages: size(o.mediumMessages, 100_000),
    smallMessages: size(o.smallMessages, 1000),
    users: size(o.users, 1000, 10),
    pickups: size(o.pickups, 200, 10),
    smallExports: size(o.smallExports, 20, 5),
    loadSeconds: size(o.loadSeconds, 10, 2),
    loadConnections: Array.isArray(o.loadConnections) ? (o.loadConnections as number[]) : [10, 100],
    apiMessages: size(o.apiMessages, 2000, 100),
    repeat: typeof o.repeat === 'number' ? o.repeat : quick ? 1 : 3,
    only,
    huge: o.huge === true || only.includes('huge'),
    keep: o.keep === true,
    save: o.save !== false,
    cpuProf: typeof o.cpuProf === 'string' ? o.cpuProf : undefined,
    importParser: o.importParser as BenchOptions['importParser'],
  };
}
