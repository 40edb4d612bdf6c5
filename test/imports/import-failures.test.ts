import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from '../../src/context.js';
import type { DatabaseDialect } from '../../src/database/database.js';
import { createManualClock } from '../../src/lib/time.js';
import { ImportLineError } from '../../src/modules/imports/imports.errors.js';
import { testDialects } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { appIdOf, importText, linesOf, snapshot } from './import-support.js';

const START = Date.parse('2024-03-01T00:00:00Z') * 1000;

const user = (id: string, extra: Record<string, unknown> = {}) => ({ type: 'user', data: { id, ...extra } });
const channel = (id: string, extra: Record<string, unknown> = {}) => ({
  type: 'channel',
  data: { type: 'messaging', id, created_by: 'ann', ...extra },
});
const member = (channelId: string, userId: string) => ({
  type: 'member',
  data: { channel_type: 'messaging', channel_id: channelId, user_id: userId },
});
const message = (id: string, channelId: string, userId: string, extra: Record<string, unknown> = {}) => ({
  type: 'message',
  data: {
    id,
    channel_type: 'messaging',
    channel_id: channelId,
    user: userId,
    text: `text of ${id}`,
    ...extra,
  },
});
const reaction = (messageId: string, userId: string, type = 'like') => ({
  type: 'reaction',
  data: { message_id: messageId, user_id: userId, type },
});

async function lineError(promise: Promise<unknown>): Promise<ImportLineError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImportLineError);
  return error as ImportLineError;
}

describe.each(testDialects)('import failures and references (%s)', (dialect) => {
  const clock = createManualClock(START);
  let t: TestServer;
  let context: Context;

  /** A fresh app, so every test starts from an empty data set. */
  async function freshApp() {
    const app = await t.createTestApp();
    return { ...app, appId: await appIdOf(context, app.apiKey) };
  }
  const isEmpty = async (appId: number) =>
    Object.values(await snapshot(context.db, appId)).every((rows) => rows.length === 0);

  beforeAll(async () => {
    t = await startTestServer(dialect, { clock });
    context = t.server.context;
  });
  afterAll(() => t.close());

  it('a line that is not JSON fails with its number, and a file within one batch stores nothing', async () => {
    const { appId } = await freshApp();
    const text =
      linesOf([user('ann'), user('ben'), channel('c')]) + '{"type":"user","data":\n' + linesOf([user('cat')]);
    const error = await lineError(importText(context, appId, text));
    expect(error).toMatchObject({ line: 4, field: 'line', code: 4, statusCode: 400 });
    expect(error.message).toMatch(/^line 4: is not valid JSON: .* \(nothing was imported\)$/);
    expect(await isEmpty(appId)).toBe(true);
  });

  it.each([
    ['{"type":"device","data":{"id":"d"}}', 'type'],
    ['[1,2]', 'line'],
    ['{"type":"user"}', 'data'],
    ['{"type":"user","data":{"name":"no id"}}', 'data.id'],
    ['{"type":"user","data":{"id":"has space"}}', 'data.id'],
    ['{"type":"user","data":{"id":"u","created_at":"yesterday"}}', 'data.created_at'],
    ['{"type":"channel","data":{"id":"c"}}', 'data.type'],
    ['{"type":"member","data":{"channel_type":"messaging","user_id":"ann"}}', 'data.channel_id'],
    ['{"type":"message","data":{"id":"m","channel_type":"messaging","channel_id":"c"}}', 'data.user'],
    [
      '{"type":"message","data":{"id":"m","channel_type":"messaging","channel_id":"c","user":"ann","type":"ephemeral"}}',
      'data.type',
    ],
    [
      '{"type":"message","data":{"id":"m","channel_type":"messaging","channel_id":"c","user":"ann","parent_id":"m"}}',
      'data.parent_id',
    ],
    [
      '{"type":"message","data":{"id":"m","channel_type":"messaging","channel_id":"c","user":"ann","pinned":"yes"}}',
      'data.pinned',
    ],
    ['{"type":"user","data":{"id":"u","banned":"yes"}}', 'data.banned'],
    ['{"type":"user","data":{"id":"u","banned":1}}', 'data.banned'],
    ['{"type":"user","data":{"id":"u","deactivated_at":true}}', 'data.deactivated_at'],
    ['{"type":"user","data":{"id":"u","deactivated_at":"last week"}}', 'data.deactivated_at'],
    ['{"type":"channel","data":{"type":"messaging","id":"d","truncated_by":7}}', 'data.truncated_by'],
    [
      '{"type":"channel","data":{"type":"messaging","id":"d","truncated_by":{"name":"x"}}}',
      'data.truncated_by',
    ],
    ['{"type":"reaction","data":{"message_id":"m","user_id":"ann","type":"no spaces"}}', 'data.type'],
    ['{"type":"reaction","data":{"message_id":"m","user_id":"ann","type":"like","score":-1}}', 'data.score'],
    ['{"type":"channel_mute","data":{"channel_type":"messaging","channel_id":"c"}}', 'data.user_id'],
    ['{"type":"channel_mute","data":{"user_id":"ann","channel_type":"messaging"}}', 'data.channel_id'],
    [
      '{"type":"channel_mute","data":{"user_id":"ann","channel_type":"messaging","channel_id":"c","expires":"soon"}}',
      'data.expires',
    ],
    // A mute has no custom data: a field it does not know is refused, not dropped.
    [
      '{"type":"channel_mute","data":{"user_id":"ann","channel_type":"messaging","channel_id":"c","reason":"noisy"}}',
      'data.reason',
    ],
  ])('refuses %s, naming the field %s', async (badLine, field) => {
    const { appId } = await freshApp();
    const text = linesOf([user('ann'), channel('c')]) + '\n' + badLine + '\n';
    const error = await lineError(importText(context, appId, text));
    // The blank line 3 still counts: line numbers are the file's.
    expect(error).toMatchObject({ line: 4, field });
    expect(await isEmpty(appId)).toBe(true);
  });

  it.each([
    [
      'a message by an unknown user',
      [message('m', 'c', 'ghost')],
      'data.user',
      /user ghost is neither in the database nor earlier in the file/,
    ],
    [
      'a mention of an unknown user',
      [message('m', 'c', 'ann', { mentioned_users: ['ghost'] })],
      'data.mentioned_users',
      /user ghost/,
    ],
    [
      'a member of an unknown channel',
      [member('nowhere', 'ann')],
      'data.channel_id',
      /channel messaging:nowhere is neither/,
    ],
    [
      'a reaction to an unknown message',
      [reaction('ghost-message', 'ann')],
      'data.message_id',
      /message ghost-message is neither/,
    ],
    [
      'a reply to an unknown message',
      [message('r', 'c', 'ann', { parent_id: 'ghost' })],
      'data.parent_id',
      /message ghost is neither/,
    ],
    [
      'a quote of an unknown message',
      [message('q', 'c', 'ann', { quoted_message_id: 'ghost' })],
      'data.quoted_message_id',
      /message ghost/,
    ],
    [
      'a channel mute by an unknown user',
      [{ type: 'channel_mute', data: { channel_type: 'messaging', channel_id: 'c', user_id: 'ghost' } }],
      'data.user_id',
      /user ghost is neither/,
    ],
    [
      'a channel mute of an unknown channel',
      [{ type: 'channel_mute', data: { channel_type: 'messaging', channel_id: 'nowhere', user_id: 'ann' } }],
      'data.channel_id',
      /channel messaging:nowhere is neither/,
    ],
    [
      'a channel created by an unknown user',
      [channel('d', { created_by: 'ghost' })],
      'data.created_by',
      /user ghost/,
    ],
    [
      'a channel truncated by an unknown user',
      [channel('d', { truncated_at: '2024-01-01T00:00:00Z', truncated_by: 'ghost' })],
      'data.truncated_by',
      /user ghost is neither in the database nor earlier in the file/,
    ],
  ])('refuses %s', async (_name, lines, field, reason) => {
    const { appId } = await freshApp();
    const text = linesOf([user('ann'), channel('c'), ...lines, user('late')]);
    const error = await lineError(importText(context, appId, text));
    expect(error).toMatchObject({ line: 3, field });
    expect(error.message).toMatch(reason);
    expect(await isEmpty(appId)).toBe(true);
  });

  it('refuses a reference to something only a later line defines', async () => {
    const { appId } = await freshApp();
    const text = linesOf([
      user('ann'),
      channel('c'),
      message('reply', 'c', 'ann', { parent_id: 'parent' }),
      message('parent', 'c', 'ann'),
    ]);
    expect(await lineError(importText(context, appId, text))).toMatchObject({
      line: 3,
      field: 'data.parent_id',
    });
    const early = linesOf([message('m', 'c', 'ann'), user('ann'), channel('c')]);
    expect(await lineError(importText(context, appId, early))).toMatchObject({
      line: 1,
      field: 'data.channel_id',
    });
  });

  it('refuses a reply to a reply, and a reply to a message of another channel', async () => {
    const { appId } = await freshApp();
    const base = [
      user('ann'),
      channel('c'),
      channel('d'),
      message('p', 'c', 'ann'),
      message('r', 'c', 'ann', { parent_id: 'p' }),
    ];
    const nested = linesOf([...base, message('rr', 'c', 'ann', { parent_id: 'r' })]);
    const nestedError = await lineError(importText(context, appId, nested));
    expect(nestedError).toMatchObject({ line: 6, field: 'data.parent_id' });
    expect(nestedError.message).toMatch(/message r is a reply, and replies cannot have replies/);
    const elsewhere = linesOf([...base, message('x', 'd', 'ann', { parent_id: 'p' })]);
    expect((await lineError(importText(context, appId, elsewhere))).message).toMatch(
      /message p is in messaging:c, not in messaging:d/,
    );
    // The same checks hold when the parent is found in the database rather than in the file.
    await importText(context, appId, linesOf(base));
    const fromDatabase = linesOf([message('rr', 'c', 'ann', { parent_id: 'r' })]);
    expect(await lineError(importText(context, appId, fromDatabase))).toMatchObject({
      line: 1,
      field: 'data.parent_id',
    });
  });

  it('accepts references to users, channels and messages created through the API', async () => {
    const { appId, client } = await freshApp();
    await client.upsertUsers([{ id: 'ann' }, { id: 'ben' }]);
    const general = client.channel('messaging', 'general', {
      created_by_id: 'ann',
      members: ['ann'],
    } as never);
    await general.create();
    await general.sendMessage({ id: 'api-message', text: 'from the API', user_id: 'ann' });
    const text = linesOf([
      member('general', 'ben'),
      message('imported-reply', 'general', 'ben', {
        parent_id: 'api-message',
        created_at: '2030-01-01T00:00:00Z',
      }),
      reaction('api-message', 'ben', 'wow'),
    ]);
    expect(await importText(context, appId, text)).toMatchObject({ members: 1, messages: 1, reactions: 1 });
    const state = await general.query({ messages: { limit: 10 } });
    expect(state.channel.member_count).toBe(2);
    const { message: parent } = await client.getMessage('api-message');
    expect(parent).toMatchObject({ reply_count: 1, reaction_counts: { wow: 1 } });
  });

  it('reports the first bad line even when a later line of the batch fails first', async () => {
    const { appId } = await freshApp();
    const text = linesOf([user('ann'), message('m', 'c', 'ann'), channel('c')]) + 'not json\n';
    const error = await lineError(importText(context, appId, text));
    expect(error).toMatchObject({ line: 2, field: 'data.channel_id' });
  });

  it('a file longer than a batch stores nothing when a later batch has a bad line; the corrected file imports whole', async () => {
    const { appId, client } = await freshApp();
    const good = [
      user('ann'),
      user('ben'),
      user('cat'),
      user('dan'),
      user('eve'),
      user('fay'),
      channel('c'),
      member('c', 'ann'),
    ];
    const bad = linesOf([...good, message('m', 'c', 'ghost'), message('n', 'c', 'ann')]);
    const progress: number[] = [];
    const error = await lineError(
      importText(context, appId, bad, { batchSize: 3, onProgress: (p) => progress.push(p.lines) }),
    );
    expect(progress).toEqual([3, 6]);
    expect(error).toMatchObject({ line: 9, field: 'data.user' });
    expect(error.message).toBe(
      'line 9: data.user user ghost is neither in the database nor earlier in the file (nothing was imported)',
    );
    expect(await isEmpty(appId)).toBe(true);

    const fixed = linesOf([
      ...good,
      message('m', 'c', 'ben'),
      message('n', 'c', 'ann'),
      reaction('m', 'cat'),
    ]);
    expect(await importText(context, appId, fixed, { batchSize: 3 })).toEqual({
      users: 6,
      channels: 1,
      members: 1,
      channel_mutes: 0,
      messages: 2,
      reactions: 1,
    });
    const { channel: stored, messages } = await client
      .channel('messaging', 'c')
      .query({ messages: { limit: 10 } });
    expect(stored?.member_count).toBe(1);
    expect(messages.map((m) => [m.id, m.reaction_counts])).toEqual([
      ['m', { like: 1 }],
      ['n', {}],
    ]);
  });

  it('a failing import leaves rows it had already replaced in earlier batches as they were', async () => {
    const { appId } = await freshApp();
    await importText(
      context,
      appId,
      linesOf([user('ann', { name: 'Ann' }), channel('c'), message('m', 'c', 'ann')]),
    );
    const before = await snapshot(context.db, appId);
    const text = linesOf([
      user('ann', { name: 'changed' }),
      message('m', 'c', 'ann', { text: 'changed' }),
      reaction('m', 'ann'),
      message('r', 'c', 'ann', { parent_id: 'm' }),
      message('x', 'c', 'nobody'),
    ]);
    const error = await lineError(importText(context, appId, text, { batchSize: 2 }));
    expect(error).toMatchObject({ line: 5, field: 'data.user' });
    expect(await snapshot(context.db, appId)).toEqual(before);
  });

  it('a failure while writing a batch rolls back everything that batch wrote', async () => {
    const { appId } = await freshApp();
    // The real database, with a writer that breaks after the batch has written users and messages.
    const failing: DatabaseDialect = {
      ...context.dialect,
      bulkWriteTransaction: (work) =>
        context.dialect.bulkWriteTransaction((trx, writer) =>
          work(trx, {
            update: (request) => writer.update(request),
            upsert: async (request) => {
              if (request.table === 'reactions') throw new Error('disk on fire');
              await writer.upsert(request);
            },
            insertNew: async (request) => {
              if (request.table === 'reactions') throw new Error('disk on fire');
              return writer.insertNew(request);
            },
          }),
        ),
    };
    const text = linesOf([user('ann'), channel('c'), message('m', 'c', 'ann'), reaction('m', 'ann')]);
    const attempt = importText({ ...context, dialect: failing }, appId, text);
    await expect(attempt).rejects.toThrow(
      /^import failed writing lines 1 to 4 \(nothing was imported\): disk on fire$/,
    );
    expect(await isEmpty(appId)).toBe(true);
  });

  it('replaces and recounts a message it took for new that the writer finds stored (written meanwhile)', async () => {
    const { appId } = await freshApp();
    // The writer finds message m stored: written by someone else between the importer's check and its write.
    const meanwhile: DatabaseDialect = {
      ...context.dialect,
      bulkWriteTransaction: (work) =>
        context.dialect.bulkWriteTransaction((trx, writer) =>
          work(trx, {
            ...writer,
            insertNew: async (request) => {
              if (request.table === 'messages') {
                await trx
                  .insertInto('messages')
                  .values({
                    app_id: appId,
                    id: 'm',
                    cid: 'messaging:c',
                    user_id: 'ben',
                    type: 'regular',
                    text: 'meanwhile',
                    html: '',
                    attachments: '[]',
                    mentioned_users: '[]',
                    custom: '{}',
                    show_in_channel: 0,
                    reply_count: 0,
                    reaction_counts: '{"wow":1}',
                    reaction_scores: '{"wow":3}',
                    pinned: 0,
                    silent: 0,
                    created_at: START,
                    updated_at: START,
                  })
                  .execute();
                await trx
                  .insertInto('reactions')
                  .values({
                    app_id: appId,
                    message_id: 'm',
                    user_id: 'ben',
                    type: 'wow',
                    score: 3,
                    custom: '{}',
                    created_at: START,
                    updated_at: START,
                  })
                  .execute();
              }
              return writer.insertNew(request);
            },
          }),
        ),
    };
    const text = linesOf([
      user('ann'),
      user('ben'),
      channel('c'),
      message('m', 'c', 'ann'),
      message('r1', 'c', 'ben', { parent_id: 'm' }),
      message('r2', 'c', 'ann', { parent_id: 'm' }),
      reaction('m', 'ann'),
      reaction('m', 'ben'),
      reaction('m', 'ben', 'love'),
      reaction('r1', 'ann'),
    ]);
    await importText({ ...context, dialect: meanwhile }, appId, text);
    const counters = await context.db
      .selectFrom('messages')
      .select(['id', 'text', 'reply_count', 'reaction_counts', 'reaction_scores'])
      .where('app_id', '=', appId)
      .orderBy('id')
      .execute();
    expect(counters).toEqual([
      {
        id: 'm',
        text: 'text of m',
        reply_count: 2,
        reaction_counts: '{"like":2,"love":1,"wow":1}',
        reaction_scores: '{"like":2,"love":1,"wow":3}',
      },
      {
        id: 'r1',
        text: 'text of r1',
        reply_count: 0,
        reaction_counts: '{"like":1}',
        reaction_scores: '{"like":1}',
      },
      { id: 'r2', text: 'text of r2', reply_count: 0, reaction_counts: '{}', reaction_scores: '{}' },
    ]);
  });

  it('counts what a batch alone feeds as it writes, and recounts from the rows what later batches add', async () => {
    const { appId } = await freshApp();
    // Batches of three lines: m1 takes a reply and a reaction in its own batch and more in later
    // ones; m3 comes without reactions and takes them in two later batches.
    const text = linesOf([
      user('ann'),
      user('ben'),
      channel('c'),
      message('m1', 'c', 'ann'),
      message('r1', 'c', 'ben', { parent_id: 'm1' }),
      reaction('m1', 'ann'),
      reaction('m1', 'ben'),
      message('m2', 'c', 'ann'),
      reaction('m2', 'ann'),
      reaction('m2', 'ben', 'love'),
      message('r2', 'c', 'ann', { parent_id: 'm1' }),
      message('m3', 'c', 'ben'),
      reaction('m3', 'ann'),
      reaction('m3', 'ben'),
      reaction('m3', 'ann', 'love'),
      reaction('m3', 'ben', 'love'),
      reaction('r1', 'ann', 'wow'),
    ]);
    await importText(context, appId, text, { batchSize: 3 });
    const counters = await context.db
      .selectFrom('messages')
      .select(['id', 'reply_count', 'reaction_counts'])
      .where('app_id', '=', appId)
      .orderBy('id')
      .execute();
    expect(counters).toEqual([
      { id: 'm1', reply_count: 2, reaction_counts: '{"like":2}' },
      { id: 'm2', reply_count: 0, reaction_counts: '{"like":1,"love":1}' },
      { id: 'm3', reply_count: 0, reaction_counts: '{"like":2,"love":2}' },
      { id: 'r1', reply_count: 0, reaction_counts: '{"wow":1}' },
      { id: 'r2', reply_count: 0, reaction_counts: '{}' },
    ]);
  });

  it('a later line for the same id replaces the earlier one, within a batch and across batches', async () => {
    const { appId, client } = await freshApp();
    const text = linesOf([
      user('ann', { name: 'first' }),
      user('ann', { name: 'second' }),
      channel('c'),
      message('m', 'c', 'ann', { text: 'draft' }),
      message('m', 'c', 'ann', { text: 'final' }),
      user('ann', { name: 'third' }),
    ]);
    expect(await importText(context, appId, text, { batchSize: 4 })).toMatchObject({ users: 3, messages: 2 });
    expect((await client.queryUsers({ id: 'ann' })).users[0]).toMatchObject({ name: 'third' });
    expect((await client.getMessage('m')).message.text).toBe('final');
  });

  it('times missing from a line default to now, and importing the line again keeps the stored ones', async () => {
    const { appId, client } = await freshApp();
    const text = linesOf([
      user('ann'),
      channel('c'),
      member('c', 'ann'),
      message('m', 'c', 'ann'),
      message('n', 'c', 'ann', { type: 'deleted' }),
      reaction('m', 'ann'),
    ]);
    clock.set(START);
    await importText(context, appId, text);
    const first = await snapshot(context.db, appId);
    expect(first.users[0]).toMatchObject({ created_at: START, updated_at: START });
    expect(
      first.messages.map((m) => [m.id, m.created_at === START, m.updated_at === m.created_at, m.deleted_at]),
    ).toEqual([
      ['m', true, true, null],
      ['n', true, true, START],
    ]);
    expect(first.channels[0]).toMatchObject({ last_message_at: START, member_count: 1 });
    clock.advanceMillis(60_000);
    await importText(context, appId, text);
    expect(await snapshot(context.db, appId)).toEqual(first);
    expect((await client.getMessage('n')).message).toMatchObject({
      type: 'deleted',
      deleted_at: '2024-03-01T00:00:00.000000Z',
    });
  });

  it('a reply imported again under another parent, by a later import or a later batch, moves between the counts', async () => {
    const { appId, client } = await freshApp();
    const thread = [user('ann'), channel('c'), message('p1', 'c', 'ann'), message('p2', 'c', 'ann')];
    await importText(context, appId, linesOf([...thread, message('r', 'c', 'ann', { parent_id: 'p1' })]));
    expect((await client.getMessage('p1')).message.reply_count).toBe(1);
    await importText(context, appId, linesOf([message('r', 'c', 'ann', { parent_id: 'p2' })]));
    expect((await client.getMessage('p1')).message.reply_count).toBe(0);
    expect((await client.getMessage('p2')).message.reply_count).toBe(1);

    const other = await freshApp();
    const moved = [
      ...thread,
      message('r', 'c', 'ann', { parent_id: 'p1' }),
      message('r', 'c', 'ann', { parent_id: 'p2' }),
    ];
    await importText(context, other.appId, linesOf(moved), { batchSize: 5 });
    expect((await other.client.getMessage('p1')).message.reply_count).toBe(0);
    expect((await other.client.getMessage('p2')).message.reply_count).toBe(1);
  });
});
