/**
 * History reads at any depth: the large channel paged from newest to oldest through
 * `channel.query({ messages: { limit: 100, id_lt } })`, and a thread's replies through
 * `channel.getReplies(parent, { limit: 100, id_lt })`. Pages from the newest end and pages ending at
 * the oldest are timed alternately (so load drift hits both alike): p99 of every page, and the median
 * of the last pages beside the median of the first.
 *
 * The targets are on the server: each page is the exact request the SDK call sends, made through the
 * SDK's own HTTP client (`client.post` / `client.get`), answered and parsed. The SDK call itself is timed
 * too and reported beside it: it also merges every page into the SDK's in-memory channel state, work
 * that happens in the caller's process and grows with the pages it already holds.
 */
import { sql } from 'kysely';
import type { MessageRow, ReactionRow } from '../src/database/database.types.js';
import { messageTable, reactionTable } from '../src/modules/imports/import-tables.js';
import { median, percentile } from './api-client.js';
import type { BenchRun } from './export-figures.js';
import { figure, type Figure } from './report.js';
import { seedMessages, userId } from './seed-data.js';

const PAGE = 100;

type Page = (idLt: string | undefined) => Promise<Array<{ id: string }>>;

/** Rounds of the thread's pages (each round pages all of it). */
const THREAD_ROUNDS = 2;

/**
 * Times `pages` pages from the newest end and `pages` ending at the oldest, alternately, `rounds`
 * times over.
 */
async function timePages(
  page: Page,
  lastAnchor: string,
  pages: number,
  rounds = 1,
): Promise<{ first: number[]; last: number[] }> {
  const first: number[] = [];
  const last: number[] = [];
  const timed = async (idLt: string | undefined, into: number[]) => {
    const started = performance.now();
    const messages = await page(idLt);
    into.push(performance.now() - started);
    return messages[0]?.id; // oldest first: the next page is older than this one
  };
  // A few untimed pages first, so the code is optimised before anything is measured.
  for (let i = 0; i < 5; i++) await page(undefined);
  for (let round = 0; round < rounds; round++) {
    let firstCursor: string | undefined;
    let lastCursor: string | undefined = lastAnchor;
    for (let i = 0; i < pages; i++) {
      firstCursor = await timed(firstCursor, first);
      if (lastCursor !== undefined) lastCursor = await timed(lastCursor, last);
      if (firstCursor === undefined) throw new Error('the newest pages ran out');
    }
  }
  return { first, last };
}

function depthFigures(
  key: string,
  what: string,
  timings: { first: number[]; last: number[] },
  sdk: { first: number[]; last: number[] },
  sdkCall: string,
  rounds = 1,
): Figure[] {
  const again = rounds > 1 ? `, each timed ${rounds} times` : '';
  const all = [...timings.first, ...timings.last];
  const p99 = percentile(all, 99);
  const ratio = median(timings.last) / median(timings.first);
  return [
    figure(
      `history.${key}.sdk`,
      `${what}: median page through ${sdkCall}, with the SDK's state merge`,
      median([...sdk.first, ...sdk.last]),
      'ms',
      { label: 'median page, the same request alone', value: median(all) },
    ),
    figure(
      `history.${key}.p99`,
      `${what}: p99 of ${all.length} pages of ${PAGE}`,
      p99,
      'ms',
      { label: 'median page', value: median(all) },
      { text: '< 20 ms', met: p99 < 20 },
    ),
    figure(
      `history.${key}.depth`,
      `${what}: median of the ${timings.last.length / rounds} oldest pages${again}`,
      median(timings.last),
      'ms',
      {
        label: `median of the ${timings.first.length / rounds} newest pages${again}`,
        value: median(timings.first),
      },
      { text: '<= 1.2x', met: ratio <= 1.2 },
    ),
  ];
}

/** The id `offset` places above the oldest of these rows (oldest first by created_at, id). */
async function anchorFromOldest(
  run: BenchRun,
  where: ReturnType<typeof sql>,
  offset: number,
): Promise<string> {
  const { rows } = await sql<{ id: string }>`select id from messages where app_id = ${run.app.id} and ${where}
    order by created_at, id limit 1 offset ${offset}`.execute(run.context.db);
  if (!rows[0]) throw new Error('not enough messages for the oldest pages');
  return rows[0].id;
}

async function channelHistory(run: BenchRun): Promise<Figure[]> {
  const { large } = run.channels;
  const pages = Math.min(100, Math.floor(large.messages / PAGE / 4));
  const channel = run.client.channel('messaging', large.id);
  const anchor = await anchorFromOldest(
    run,
    sql`cid = ${large.cid} and (parent_id is null or show_in_channel = 1)`,
    pages * PAGE,
  );
  const body = (idLt: string | undefined) => ({
    messages: { limit: PAGE, ...(idLt ? { id_lt: idLt } : {}) },
  });
  const timings = await timePages(
    async (idLt) =>
      (
        await run.client.post<{ messages: Array<{ id: string }> }>(
          `${channel._channelURL()}/query`,
          body(idLt),
        )
      ).messages,
    anchor,
    pages,
  );
  const sdk = await timePages(async (idLt) => (await channel.query(body(idLt))).messages, anchor, pages);
  run.log(
    `  channel of ${large.messages.toLocaleString('en-US')}: newest pages median ${median(timings.first).toFixed(1)} ms, ` +
      `oldest ${median(timings.last).toFixed(1)} ms; through channel.query ${median(sdk.first).toFixed(1)} / ${median(sdk.last).toFixed(1)} ms`,
  );
  return depthFigures(
    'channel',
    `channel.query history of ${large.messages.toLocaleString('en-US')} messages`,
    timings,
    sdk,
    'channel.query',
  );
}

/** A thread of `replies` replies in a channel of its own, written with the bulk writer. */
async function seedThread(run: BenchRun, replies: number): Promise<string> {
  await run.client.channel('messaging', 'history-thread', { created_by_id: userId(0) } as never).create();
  const messages: MessageRow[] = [];
  const reactions: ReactionRow[] = [];
  for (const batch of seedMessages({
    appId: run.app.id,
    cid: 'messaging:history-thread',
    count: replies + 1,
    memberCount: Math.min(50, run.options.users),
    startAt: Date.UTC(2025, 3, 1) * 1000,
    seed: 77,
    batchSize: replies + 1,
  })) {
    messages.push(...batch.messages);
    reactions.push(...batch.reactions);
  }
  const [root, ...rest] = messages;
  const thread = [
    {
      ...root!,
      type: 'regular',
      parent_id: null,
      show_in_channel: 0,
      quoted_message_id: null,
      reply_count: replies,
    },
    ...rest.map((row) => ({
      ...row,
      type: 'reply',
      parent_id: root!.id,
      show_in_channel: 0,
      quoted_message_id: null,
      reply_count: 0,
    })),
  ];
  await run.context.dialect.bulkWriteTransaction(async (_trx, writer) => {
    for (let i = 0; i < thread.length; i += 5000)
      await writer.upsert({ ...messageTable, rows: thread.slice(i, i + 5000) });
    await writer.upsert({ ...reactionTable, rows: reactions });
  });
  if (run.context.dialect.name === 'postgres') await sql`analyze messages`.execute(run.context.db);
  return root!.id;
}

async function threadHistory(run: BenchRun): Promise<Figure[]> {
  const replies = run.options.quick ? 1000 : 10_000;
  const rootId = await seedThread(run, replies);
  // Half the thread from each end is every page of it; paged twice, so that its p99 is one of 200
  // pages (as the channel's) rather than the single slowest of a few dozen.
  const pages = Math.floor(replies / PAGE / 2);
  const channel = run.client.channel('messaging', 'history-thread');
  const anchor = await anchorFromOldest(run, sql`parent_id = ${rootId}`, pages * PAGE);
  const params = (idLt: string | undefined) => ({ limit: PAGE, ...(idLt ? { id_lt: idLt } : {}) });
  const request: Page = async (idLt) =>
    (
      await run.client.get<{ messages: Array<{ id: string }> }>(
        `${run.client.baseURL}/messages/${encodeURIComponent(rootId)}/replies`,
        params(idLt),
      )
    ).messages;
  const sdkCall: Page = async (idLt) => (await channel.getReplies(rootId, params(idLt))).messages;
  const timings = await timePages(request, anchor, pages, THREAD_ROUNDS);
  const sdk = await timePages(sdkCall, anchor, pages, THREAD_ROUNDS);
  run.log(
    `  thread of ${replies.toLocaleString('en-US')} replies: newest pages median ${median(timings.first).toFixed(1)} ms, ` +
      `oldest ${median(timings.last).toFixed(1)} ms; through getReplies ${median(sdk.first).toFixed(1)} / ${median(sdk.last).toFixed(1)} ms`,
  );
  return depthFigures(
    'thread',
    `getReplies of a ${replies.toLocaleString('en-US')}-reply thread`,
    timings,
    sdk,
    'channel.getReplies',
    THREAD_ROUNDS,
  );
}

export async function historyFigures(run: BenchRun): Promise<Figure[]> {
  run.log('history: paging a channel and a thread from newest to oldest');
  return [...(await channelHistory(run)), ...(await threadHistory(run))];
}
