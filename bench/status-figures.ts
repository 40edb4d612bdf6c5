/**
 * Figure 4: `GET /tasks/{id}` under load (autocannon, fixed duration, 127.0.0.1) beside a bare
 * Fastify route in its own process, run with the same client settings one after the other.
 */
import autocannon, { type Result } from 'autocannon';
import { serverAuth } from './api-client.js';
import type { BenchRun } from './export-figures.js';
import { startHelloWorld } from './processes.js';
import { figure, type Figure } from './report.js';

async function load(run: BenchRun, url: string, headers: Record<string, string>): Promise<Result> {
  const result = await autocannon({
    url,
    headers,
    connections: run.options.loadConnections,
    duration: run.options.loadSeconds,
  });
  if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0) {
    throw new Error(
      `load on ${url}: ${result.errors} errors, ${result.non2xx} non-2xx, ${result.timeouts} timeouts`,
    );
  }
  return result;
}

export async function statusFigures(run: BenchRun, serverUrl: string, taskId: string): Promise<Figure[]> {
  const { connections, seconds } = {
    connections: run.options.loadConnections,
    seconds: run.options.loadSeconds,
  };
  run.log(`status: autocannon, ${connections} connections, ${seconds} s per target`);
  const hello = await startHelloWorld();
  let baseline: Result;
  try {
    // A short warm-up of each, so both are measured with their code optimised.
    await autocannon({ url: `${hello.url}/hello`, connections, duration: 1 });
    baseline = await load(run, `${hello.url}/hello`, {});
  } finally {
    await hello.stop();
  }
  const auth = await serverAuth(run.app);
  const url = `${serverUrl}/tasks/${taskId}?${auth.query}`;
  await autocannon({ url, headers: auth.headers, connections, duration: 1 });
  const tasks = await load(run, url, auth.headers);
  run.log(
    `  GET /tasks/{id}: ${tasks.requests.average.toFixed(0)} req/s, p99 ${tasks.latency.p99} ms; ` +
      `hello world: ${baseline.requests.average.toFixed(0)} req/s, p99 ${baseline.latency.p99} ms`,
  );
  return [
    figure(
      'status.throughput',
      `GET /tasks/{id} of a completed export, ${connections} connections`,
      tasks.requests.average,
      'req/s',
      { label: 'bare Fastify route', value: baseline.requests.average },
      { text: '>= 0.5x', met: tasks.requests.average >= 0.5 * baseline.requests.average },
    ),
    figure(
      'status.p99',
      'GET /tasks/{id} latency p99',
      tasks.latency.p99,
      'ms',
      { label: 'bare Fastify route p99', value: baseline.latency.p99 },
      { text: '< 10 ms', met: tasks.latency.p99 < 10 },
    ),
  ];
}
