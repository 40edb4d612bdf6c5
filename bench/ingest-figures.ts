/**
 * Ingest: messages through the API (write-figures.ts) and through the importer (import-figures.ts).
 */
import type { BenchRun } from './export-figures.js';
import { importFigures } from './import-figures.js';
import type { Figure } from './report.js';
import { writeFigures } from './write-figures.js';

export async function ingestFigures(
  run: BenchRun,
  serverUrl: string,
  exportTaskId: string,
): Promise<Figure[]> {
  run.log('ingest: through the API, then the importer');
  return [...(await writeFigures(run, serverUrl)), ...(await importFigures(run, exportTaskId))];
}
