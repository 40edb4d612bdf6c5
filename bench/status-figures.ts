/**
 * `GET /tasks/{id}` under load (autocannon, fixed duration, 127.0.0.1) at each connection count,
 * beside a bare Fastify route in its own process, run with the same client settings one after the
 * other. The target is the p99 latency; the throughput stands beside the bare route's for reference.
 */
import autocannon, { type Result } from 'autocannon';
import { serverAuth } from './api-client.js';
import type { BenchRun } from './export-figures.js';
import { startHelloWorld } from './processes.js';
import { figure, type Figure } from './report.js';

async function load(url: string, headers: Record<string, string>, connections: number, seconds: number) {
  const result: Result = await autocannon({ url, headers, connections, duration: seconds });
  if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0) {
    throw new Error(
      `load on ${url}: ${result.errors} errors, ${result.non2xx} non-2xx, ${result.timeouts} timeouts`,
    );
  }
  return result;
}

export async function statusFigures(run: BenchRun, serverUrl: string, taskId: string): Promise<Figure[]> {
  const seconds = run.options.loadSeconds;
  const auth = await serverAuth(run.app);
  const url = `${serverUrl}/tasks/${taskId}?${auth.query}`;
  const figures: Figure[] = [];
  const hello = await startHelloWorld();
  try {
    for (const connections of run.options.loadConnections) {
      run.log(`status: autocannon, ${connections} connections, ${seconds} s per target`);
      // A short warm-up of each, so both are measured with their code optimised.
      await autocannon({ url: `${hello.url}/hello`, connections, duration: 1 });
      const baseline = await load(`${hello.url}/hello`, {}, connections, seconds);
      await autocannon({ url, headers: auth.headers, connections, duration: 1 });
      const tasks = await load(url, auth.headers, connections, seconds);
      run.log(
        `  GET /tasks/{id}: ${tasks.requests.average.toFixed(0)} req/s, p99 ${tasks.latency.p99} ms; ` +
          `hello world: ${baseline.requests.average.toFixed(0)} req/s, p99 ${baseline.latency.p99} ms`,
      );
      figures.push(
        figure(
          `status.throughput.c${connections}`,
          `GET /tasks/{id} of a completed export, ${connections} connections`,
          tasks.requests.average,
          'req/s',
          { label: 'bare Fastify route', value: baseline.requests.average },
        ),
        figure(
          `status.p99.c${connections}`,
          `GET /tasks/{id} latency p99, ${connections} connections`,
          tasks.latency.p99,
          'ms',
          { label: 'bare Fastify route p99', value: baseline.latency.p99 },
          { text: '< 10 ms', met: tasks.latency.p99 < 10 },
        ),
      );
    }
  } finally {
    await hello.stop();
  }
  return figures;
}
