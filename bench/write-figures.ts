/**
 * Writes through the API: `POST /channels/{type}/{id}/message` with 8 and with 64 requests in flight,
 * into one channel and spread over 100 channels, each beside the same POSTs to a bare Fastify route.
 * Rounds alternate the two servers and a figure's ratio is the median of its per-round ratios, so
 * drift in the shared machine's load cancels out. Afterwards every channel's last_message_at is checked
 * against its newest message: a write path that got faster by losing counts fails the run.
 */
import { sql } from 'kysely';
import { median, serverAuth } from './api-client.js';
import type { BenchRun } from './export-figures.js';
import { startHelloWorld } from './processes.js';
import { figure, type Figure } from './report.js';
import { userId } from './seed-data.js';

/** Sends `total` POSTs with `concurrency` in flight; resolves with requests per second. */
export async function postMany(
  url: (i: number) => string,
  body: (i: number) => string,
  headers: Record<string, string>,
  total: number,
  concurrency: number,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const response = await fetch(url(i), { method: 'POST', headers, body: body(i) });
        if (!response.ok) throw new Error(`POST ${url(i)}: ${response.status} ${await response.text()}`);
        await response.arrayBuffer();
      }
    }),
  );
  return (total / (performance.now() - started)) * 1000;
}

const SPREAD_CHANNELS = 100;

interface WriteCase {
  concurrency: number;
  /** Channels the messages go to, round robin. */
  channels: number;
}

const CASES: WriteCase[] = [
  { concurrency: 8, channels: 1 },
  { concurrency: 8, channels: SPREAD_CHANNELS },
  { concurrency: 64, channels: 1 },
  { concurrency: 64, channels: SPREAD_CHANNELS },
];

const channelId = (n: number) => `write-${String(n).padStart(3, '0')}`;

/** Every write channel whose last_message_at is not the time of its newest message. */
async function lastMessageTimesThatDisagree(run: BenchRun): Promise<string[]> {
  const { rows } = await sql<{ cid: string; stored: number | null; newest: number | null }>`
    select c.cid, c.last_message_at as stored,
      (select max(m.created_at) from messages m where m.app_id = c.app_id and m.cid = c.cid) as newest
    from channels c where c.app_id = ${run.app.id} and c.cid like 'messaging:write-%'`.execute(
    run.context.db,
  );
  return rows
    .filter((row) => Number(row.stored ?? 0) !== Number(row.newest ?? 0))
    .map((row) => `${row.cid}: last_message_at ${row.stored}, newest message ${row.newest}`);
}

export async function writeFigures(run: BenchRun, serverUrl: string): Promise<Figure[]> {
  const { apiMessages: total, repeat } = run.options;
  run.log(`writes: POST .../message, ${total} messages a run, ${repeat} rounds a case`);
  for (let n = 0; n < SPREAD_CHANNELS; n++) {
    await run.client.channel('messaging', channelId(n), { created_by_id: userId(0) } as never).create();
  }
  const auth = await serverAuth(run.app);
  const users = Math.min(10, run.options.users);
  const body = (i: number) =>
    JSON.stringify({
      message: { text: `message ${i} of the write benchmark`, user_id: userId(i % users) },
    });
  const hello = await startHelloWorld();
  const figures: Figure[] = [];
  try {
    const echo = () => `${hello.url}/echo`;
    // Warm-ups, so both servers are measured with their code optimised.
    await postMany(echo, body, auth.headers, Math.min(500, total), 8);
    await postMany(
      (i) => `${serverUrl}/channels/messaging/${channelId(i % SPREAD_CHANNELS)}/message?${auth.query}`,
      body,
      auth.headers,
      Math.min(500, total),
      8,
    );
    for (const { concurrency, channels } of CASES) {
      const url = (i: number) =>
        `${serverUrl}/channels/messaging/${channelId(i % channels)}/message?${auth.query}`;
      const rates: number[] = [];
      const baselines: number[] = [];
      for (let round = 0; round < repeat; round++) {
        baselines.push(await postMany(echo, body, auth.headers, total, concurrency));
        rates.push(await postMany(url, body, auth.headers, total, concurrency));
      }
      const ratio = median(rates.map((rate, i) => rate / baselines[i]!));
      const where = channels === 1 ? 'one channel' : `${channels} channels`;
      run.log(
        `  ${concurrency} in flight, ${where}: ${rates.map((r) => r.toFixed(0)).join(' / ')} msg/s; ` +
          `bare route ${baselines.map((r) => r.toFixed(0)).join(' / ')} req/s; ratio ${ratio.toFixed(2)}`,
      );
      const result = figure(
        `write.api.c${concurrency}.${channels === 1 ? 'one' : 'spread'}`,
        `POST .../message, ${concurrency} in flight, ${where}`,
        median(rates),
        'msg/s',
        { label: 'same POSTs to a bare Fastify route', value: median(baselines) },
        undefined,
      );
      // The ratio is the median of the rounds' ratios, not the ratio of the medians.
      result.ratio = ratio;
      result.target = { text: '>= 0.8x', met: ratio >= 0.8 };
      figures.push(result);
    }
  } finally {
    await hello.stop();
  }
  const wrong = await lastMessageTimesThatDisagree(run);
  if (wrong.length > 0)
    throw new Error(`last_message_at is not exact after the writes:\n${wrong.join('\n')}`);
  return figures;
}
