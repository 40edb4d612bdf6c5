import { startS3TestServer } from '../test/helpers/s3-server.js';
import { median, runExport } from './api-client.js';
import type { BenchRun } from './export-figures.js';
import { peakRss, startWorker } from './processes.js';
import { figure, type Figure } from './report.js';

const MB = 1024 * 1024;
const count = (n: number) => n.toLocaleString('en-US');

/**
 * The S3 figure: a v2 export of the large channel by a worker writing to S3 (s3rver on loopback, the
 * store the tests use), against the same export by a worker writing to local disk, paired in each round
 * so drift in the machine's load cancels out. s3rver runs on the same cores and stores on the same
 * disk as everything else: the ratio shows what the upload path costs, not what a real store would.
 */
export async function s3Figures(run: BenchRun): Promise<Figure[]> {
  const { large } = run.channels;
  const s3 = await startS3TestServer({ bucket: 'chatport-bench' });
  run.log(
    `s3: ${run.options.repeat} round(s) of a v2 export of ${count(large.messages)} to local disk and to S3`,
  );
  const ratios: number[] = [];
  const local: number[] = [];
  const remote: number[] = [];
  const peaks: Record<string, number[]> = { 'local disk': [], S3: [] };
  try {
    for (let round = 0; round < run.options.repeat; round++) {
      for (const [where, extra, times] of [
        ['local disk', {}, local],
        ['S3', s3.env('bench'), remote],
      ] as const) {
        const worker = await startWorker(run.env, extra);
        try {
          const result = await runExport(run.client, large.cid, { version: 'v2' });
          times.push(result.millis);
          const peak = (peakRss(worker.workPid()) ?? 0) / MB;
          peaks[where]!.push(peak);
          run.log(
            `  v2 export to ${where}: ${result.millis.toFixed(0)} ms, ` +
              `${(Number(result.result.size) / MB).toFixed(0)} MB, worker peak RSS ${peak.toFixed(0)} MB`,
          );
        } finally {
          await worker.stop();
        }
      }
      ratios.push(remote.at(-1)! / local.at(-1)!);
    }
  } finally {
    await s3.close();
  }
  return [
    {
      ...figure(
        'export.v2.large.s3',
        `v2 export, ${count(large.messages)} messages, to S3 (s3rver on loopback)`,
        median(remote),
        'ms',
        { label: 'same export to local disk', value: median(local) },
      ),
      ratio: median(ratios),
    },
    figure(
      'rss.v2.large.s3',
      `worker peak RSS, v2 export of ${count(large.messages)} to S3`,
      median(peaks.S3!),
      'MB',
      { label: 'same export to local disk', value: median(peaks['local disk']!) },
    ),
  ];
}
