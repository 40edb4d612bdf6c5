import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from '../../src/context.js';
import { createManualClock, formatMicros } from '../../src/lib/time.js';
import { ImportLineError } from '../../src/modules/imports/imports.errors.js';
import {
  importLines,
  type ImportProgress,
  type ParserMode,
} from '../../src/modules/imports/imports.usecases.js';
import { testDialects } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { appIdOf, importText, linesOf, snapshot } from './import-support.js';

const START = Date.parse('2024-05-01T00:00:00Z') * 1000;
const MODES: ParserMode[] = ['inline', 'thread', 'auto'];

type Entry = { type: string; data: Record<string, unknown> };

/**
 * 2,000 messages in 4 channels, every fifth a reply, a reaction on every fourth, some lines without
 * times, a message line repeated with new text (the later line wins), and a blank line.
 */
function entries(): Entry[] {
  const list: Entry[] = [];
  for (let u = 0; u < 20; u++) list.push({ type: 'user', data: { id: `u${u}`, name: `User ${u}` } });
  for (let c = 0; c < 4; c++) {
    list.push({ type: 'channel', data: { type: 'messaging', id: `c${c}`, created_by: 'u0' } });
    for (let m = 0; m < 5; m++)
      list.push({
        type: 'member',
        data: { channel_type: 'messaging', channel_id: `c${c}`, user_id: `u${c * 5 + m}` },
      });
  }
  const latest = new Map<number, string>();
  for (let i = 0; i < 2000; i++) {
    const c = i % 4;
    const parent = i % 5 === 4 ? latest.get(c) : undefined;
    list.push({
      type: 'message',
      data: {
        id: `m${i}`,
        channel_type: 'messaging',
        channel_id: `c${c}`,
        user: `u${c * 5 + (i % 5)}`,
        text: `message ${i}\twith a tab, a \\ and ünï`,
        ...(i % 7 === 0 ? {} : { created_at: formatMicros(START + i * 1000) }),
        ...(parent ? { parent_id: parent } : {}),
      },
    });
    if (!parent) latest.set(c, `m${i}`);
  }
  list.push({
    type: 'message',
    data: { id: 'm10', channel_type: 'messaging', channel_id: 'c2', user: 'u10', text: 'said again' },
  });
  for (let i = 0; i < 2000; i += 4)
    list.push({ type: 'reaction', data: { message_id: `m${i}`, user_id: `u${(i * 3) % 20}`, type: 'like' } });
  return list;
}

describe.each(testDialects)('parsing on a thread of its own (%s)', (dialect) => {
  const clock = createManualClock(START);
  let t: TestServer;
  let context: Context;

  async function freshApp(): Promise<number> {
    return appIdOf(context, (await t.createTestApp()).apiKey);
  }
  const withoutApp = async (appId: number): Promise<Record<string, Array<Record<string, unknown>>>> =>
    Object.fromEntries(
      Object.entries(await snapshot(context.db, appId)).map(([table, rows]) => [
        table,
        (rows as Array<Record<string, unknown>>).map((row) => ({ ...row, app_id: 0, change_mark: 0 })),
      ]),
    );

  beforeAll(async () => {
    t = await startTestServer(dialect, { clock });
    context = t.server.context;
  });
  afterAll(() => t.close());

  it('stores the same rows and reports the same progress whichever thread parses', async () => {
    const text = linesOf(entries().slice(0, 50)) + '\n' + linesOf(entries().slice(50));
    const results = [];
    for (const parser of MODES) {
      const appId = await freshApp();
      const progress: ImportProgress[] = [];
      const counts = await importText(context, appId, text, {
        batchSize: 300,
        parser,
        onProgress: (p) => progress.push(p),
      });
      results.push({
        counts,
        progress: progress.map((p) => [p.lines, p.counts]),
        rows: await withoutApp(appId),
      });
    }
    expect(results[0]!.counts).toEqual({
      users: 20,
      channels: 4,
      members: 20,
      channel_mutes: 0,
      messages: 2001,
      reactions: 500,
    });
    expect(results[0]!.rows.messages).toHaveLength(2000);
    expect(results[0]!.rows.messages!.find((m) => m.id === 'm10')).toMatchObject({ text: 'said again' });
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
  });

  it('in auto mode hands the parser over to its thread halfway, without changing a row', async () => {
    const text = linesOf(entries());
    const inlineApp = await freshApp();
    await importText(context, inlineApp, text, { batchSize: 200, parser: 'inline' });
    // A slow source, as a pipe can be: the thread gets ready while the input is still arriving.
    async function* slowly() {
      const bytes = Buffer.from(text);
      for (let i = 0; i < bytes.length; i += 4096) {
        await new Promise((resolve) => setTimeout(resolve, 30));
        yield bytes.subarray(i, i + 4096);
      }
    }
    const autoApp = await freshApp();
    const parsedOn: string[] = [];
    await importLines({
      dialect: context.dialect,
      clock: context.clock,
      appId: autoApp,
      input: Readable.from(slowly()),
      batchSize: 200,
      parser: 'auto',
      onProgress: (p) => parsedOn.push(p.parsedOn),
    });
    expect(parsedOn[0]).toBe('inline');
    expect(parsedOn.at(-1)).toBe('thread');
    expect(await withoutApp(autoApp)).toEqual(await withoutApp(inlineApp));
  });

  it.each(MODES)('names the first bad line of a later batch and stores nothing (%s)', async (parser) => {
    const appId = await freshApp();
    const list = entries();
    // Line 1,450 names a user no line defines; line 1,480, of the same batch, is not JSON: the
    // earlier line is the one reported, though the parser stops at the later one first.
    list[1449] = {
      type: 'message',
      data: { id: 'ghostly', channel_type: 'messaging', channel_id: 'c1', user: 'ghost' },
    };
    const text = linesOf(list.slice(0, 1479)) + '{"type":\n' + linesOf(list.slice(1480));
    const error = await importText(context, appId, text, { batchSize: 300, parser }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImportLineError);
    expect(error).toMatchObject({ line: 1450, field: 'data.user' });
    expect(Object.values(await snapshot(context.db, appId)).every((rows) => rows.length === 0)).toBe(true);
  });

  it('refuses a reply to a reply found by the parser thread, with its line', async () => {
    const appId = await freshApp();
    const list = entries().slice(0, 45);
    list.push(
      { type: 'message', data: { id: 'top', cid: 'messaging:c0', user: 'u0' } },
      { type: 'message', data: { id: 'reply', cid: 'messaging:c0', user: 'u0', parent_id: 'top' } },
      { type: 'message', data: { id: 'deeper', cid: 'messaging:c0', user: 'u0', parent_id: 'reply' } },
    );
    const error = await importText(context, appId, linesOf(list), { batchSize: 10, parser: 'thread' }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ line: 48, field: 'data.parent_id' });
    expect((error as Error).message).toMatch(/replies cannot have replies/);
    expect(Object.values(await snapshot(context.db, appId)).every((rows) => rows.length === 0)).toBe(true);
  });

  it('checks references to rows already stored, batch after batch, from the thread', async () => {
    const appId = await freshApp();
    const list = entries();
    await importText(context, appId, linesOf(list.slice(0, 45)), { parser: 'inline' });
    // Messages and reactions only: every user and channel they name is in the database.
    const rest = list.slice(45);
    expect(await importText(context, appId, linesOf(rest), { batchSize: 250, parser: 'thread' })).toEqual({
      users: 0,
      channels: 0,
      members: 0,
      channel_mutes: 0,
      messages: 2000,
      reactions: 500,
    });
    const top = await context.db
      .selectFrom('messages')
      .select(['reply_count'])
      .where('app_id', '=', appId)
      .where('id', '=', 'm0')
      .executeTakeFirstOrThrow();
    expect(top.reply_count).toBe(1);
  });
});
