/**
 * Figures and how they are shown: a table on stdout (and in Markdown, for the README), and a small
 * JSON record under bench/results/. Every figure stands beside a baseline measured in the same run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './processes.js';

export type Unit = 'ms' | 'MB' | 'MB/s' | 'msg/s' | 'req/s' | 'cores';

export interface Figure {
  /** Stable key, e.g. `export.v2.large`. */
  key: string;
  label: string;
  value: number;
  unit: Unit;
  baseline?: { label: string; value: number };
  /** value / baseline. */
  ratio?: number;
  target?: { text: string; met: boolean };
}

export function figure(
  key: string,
  label: string,
  value: number,
  unit: Unit,
  baseline?: { label: string; value: number },
  target?: { text: string; met: boolean },
): Figure {
  const ratio = baseline && baseline.value > 0 ? value / baseline.value : undefined;
  return { key, label, value, unit, baseline, ratio, target };
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  os: string;
  database: string;
}

export function describeMachine(database: string): Machine {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const match = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m);
    if (match) cpuModel = match[1]!.trim();
  } catch {
    // not Linux: os.cpus() has it
  }
  return {
    cpus: os.availableParallelism(),
    cpuModel,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    database,
  };
}

function formatValue(value: number, unit: Unit): string {
  const digits = unit === 'cores' ? 2 : unit === 'ms' && value < 100 ? 1 : 0;
  return `${value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })} ${unit}`;
}

function rows(figures: Figure[]): string[][] {
  return figures.map((f) => [
    f.label,
    formatValue(f.value, f.unit),
    f.baseline ? `${formatValue(f.baseline.value, f.unit)} (${f.baseline.label})` : '',
    f.ratio === undefined ? '' : `${f.ratio.toFixed(2)}x`,
    f.target?.text ?? '',
    f.target ? (f.target.met ? 'yes' : 'NO') : '',
  ]);
}

const HEADER = ['figure', 'value', 'baseline', 'ratio', 'target', 'met?'];

export function textTable(figures: Figure[]): string {
  const table = [HEADER, ...rows(figures)];
  const widths = HEADER.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function markdownTable(figures: Figure[]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(HEADER), line(HEADER.map(() => '---')), ...rows(figures).map(line)].join('\n');
}

/** bench/results/<time>-<dialect>.json: the record of a run, a few kilobytes. */
export function saveResults(record: {
  dialect: string;
  startedAt: Date;
  seconds: number;
  machine: Machine;
  options: object;
  figures: Figure[];
}): string {
  const dir = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const stamp = record.startedAt
    .toISOString()
    .replace(/[:.]/g, '-')
    .replace(/-\d{3}Z$/, 'Z');
  const file = path.join(dir, `${stamp}-${record.dialect}.json`);
  const round = (n: number | undefined) => (n === undefined ? undefined : Math.round(n * 1000) / 1000);
  const figures = record.figures.map((f) => ({
    ...f,
    value: round(f.value),
    ratio: round(f.ratio),
    baseline: f.baseline && { ...f.baseline, value: round(f.baseline.value) },
  }));
  const seconds = Math.round(record.seconds);
  fs.writeFileSync(file, `${JSON.stringify({ ...record, seconds, figures }, null, 2)}\n`);
  return file;
}
