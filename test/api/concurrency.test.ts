import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StreamChat } from 'stream-chat';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/database/database.types.js';
import { importLines } from '../../src/modules/imports/imports.usecases.js';
import { testDialects } from '../helpers/databases.js';
import { waitForTask } from '../helpers/exports.js';
import { countersThatDisagree, rowsLeftBehind } from '../helpers/recount.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** Runs `count` calls at once and waits for all of them. */
function atOnce<T>(count: number, call: (i: number) => Promise<T>): Promise<Array<PromiseSettledResult<T>>> {
  return Promise.allSettled(Array.from({ length: count }, (_, i) => call(i)));
}

function failureOf(result: PromiseSettledResult<unknown>): string | undefined {
  if (result.status === 'fulfilled') return undefined;
  const error = result.reason as { message?: string; response?: { status: number; data: unknown } };
  return error.response
    ? `${error.response.status} ${JSON.stringify(error.response.data)}`
    : String(error.message);
}

function expectAllSucceeded(results: Array<PromiseSettledResult<unknown>>): void {
  expect(results.map(failureOf).filter((f) => f !== undefined)).toEqual([]);
}

/** Calls that lost a race may be refused as a sequential call would be (400 code 4, 404 code 16). */
function expectOnlyRefusals(results: Array<PromiseSettledResult<unknown>>): void {
  for (const result of results) {
    if (result.status === 'fulfilled') continue;
    const error = result.reason as { response?: { status: number; data: { code: number } } };
    expect(
      [
        [400, 4],
        [404, 16],
      ],
      failureOf(result),
    ).toContainEqual([error.response?.status, error.response?.data.code]);
  }
}

const ids = (prefix: string, count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => `${prefix}${String(from + i).padStart(2, '0')}`);

describe.each(testDialects)('counters stay exact under many parallel clients (%s)', (dialect) => {
  let t: TestServer;
  let client: StreamChat;
  let db: Kysely<Database>;
  let appId: number;

  beforeAll(async () => {
    t = await startTestServer(dialect);
    client = t.app.client;
    db = t.server.context.db;
    appId = t.app.id;
    await client.upsertUsers(ids('u', 60).map((id) => ({ id })));
  });
  afterAll(() => t.close());

  // After every test: each counter of the app equals a recount of its rows, and nothing is orphaned.
  // What an earlier test left wrong is reported by that test alone (each line names its entity first).
  let knownWrong = new Set<string>();
  const entities = (lines: string[]) => lines.map((line) => line.split(': ')[0]!);
  beforeEach(async () => {
    knownWrong = new Set(
      entities([...(await countersThatDisagree(db, appId)), ...(await rowsLeftBehind(db, appId))]),
    );
  });
  afterEach(async () => {
    const isNew = (line: string) => !knownWrong.has(entities([line])[0]!);
    expect((await countersThatDisagree(db, appId)).filter(isNew)).toEqual([]);
    expect((await rowsLeftBehind(db, appId)).filter(isNew)).toEqual([]);
  });

  async function newChannel(id: string, members: string[] = ['u00']) {
    const channel = client.channel('messaging', id, { created_by_id: 'u00', members } as never);
    await channel.create();
    return channel;
  }

  it('50 users reacting to one message at once: every reaction is counted and scored', async () => {
    const channel = await newChannel('reactions');
    await channel.sendMessage({ id: 'liked', text: 'like me', user_id: 'u00' });
    const users = ids('u', 50);
    expectAllSucceeded(
      await atOnce(50, (i) =>
        channel.sendReaction('liked', { type: 'like', user_id: users[i]!, score: (i % 3) + 1 }),
      ),
    );
    const { message } = await client.getMessage('liked');
    expect(message.reaction_counts).toEqual({ like: 50 });
    expect(message.reaction_scores).toEqual({ like: users.reduce((sum, _, i) => sum + (i % 3) + 1, 0) });
  });

  it('200 replies to one thread at once: reply_count counts all of them', async () => {
    const channel = await newChannel('thread');
    await channel.sendMessage({ id: 'root', text: 'thread', user_id: 'u00' });
    expectAllSucceeded(
      await atOnce(200, (i) =>
        channel.sendMessage({
          text: `reply ${i}`,
          user_id: `u${String(i % 50).padStart(2, '0')}`,
          parent_id: 'root',
        }),
      ),
    );
    expect((await client.getMessage('root')).message.reply_count).toBe(200);
  });

  it('49 members added one by one at once: member_count counts all 50', async () => {
    const channel = await newChannel('crowd');
    expectAllSucceeded(await atOnce(49, (i) => channel.addMembers([ids('u', 49, 1)[i]!])));
    const state = await channel.query({ members: { limit: 100 } } as never);
    expect(state.channel.member_count).toBe(50);
    expect(state.members).toHaveLength(50);
  });

  it('100 messages into one channel at once: last_message_at is the newest of them', async () => {
    const channel = await newChannel('busy');
    const results = await atOnce(100, (i) =>
      channel.sendMessage({ text: `message ${i}`, user_id: `u${String(i % 50).padStart(2, '0')}` }),
    );
    expectAllSucceeded(results);
    const newest = results
      .map((r) => (r.status === 'fulfilled' ? r.value.message.created_at! : ''))
      .sort()
      .at(-1);
    expect((await channel.query({})).channel.last_message_at).toBe(newest);
    const stored = await db
      .selectFrom('channels')
      .select('last_message_at')
      .where('app_id', '=', appId)
      .where('cid', '=', 'messaging:busy')
      .executeTakeFirstOrThrow();
    const { max } = await db
      .selectFrom('messages')
      .select((eb) => eb.fn.max('created_at').as('max'))
      .where('app_id', '=', appId)
      .where('cid', '=', 'messaging:busy')
      .executeTakeFirstOrThrow();
    expect(stored.last_message_at).toBe(Number(max));
  });

  it('messages into 20 channels at once, among refused sends, are each answered as if sent alone', async () => {
    const channels = await Promise.all(ids('spread-', 20).map((id) => newChannel(id)));
    const frozen = await newChannel('spread-frozen');
    await frozen.update({ frozen: true });
    const results = await atOnce(90, (i) => {
      if (i < 60) return channels[i % 20]!.sendMessage({ text: `m${i}`, user_id: ids('u', 50)[i % 50]! });
      if (i < 70) return channels[i % 20]!.sendMessage({ text: 'who?', user_id: 'nobody' });
      if (i < 80) return frozen.sendMessage({ text: 'cold', user_id: 'u00' });
      return channels[0]!.sendMessage({ id: 'spread-twice', text: 'again', user_id: 'u00' });
    });
    const statuses = results.map((result) =>
      result.status === 'fulfilled'
        ? 201
        : (result.reason as { response?: { status: number } }).response?.status,
    );
    const answered = (from: number, to: number) => statuses.slice(from, to).sort().join(',');
    expect(answered(0, 60)).toBe(Array(60).fill(201).join(','));
    expect(answered(60, 70)).toBe(Array(10).fill(400).join(','));
    expect(answered(70, 80)).toBe(Array(10).fill(403).join(','));
    expect(answered(80, 90)).toBe([201, ...Array(9).fill(400)].join(','));
    const rows = await db
      .selectFrom('channels')
      .select([
        'cid',
        'last_message_at',
        (eb) =>
          eb
            .selectFrom('messages')
            .select((m) => m.fn.max('created_at').as('newest'))
            .whereRef('messages.app_id', '=', 'channels.app_id')
            .whereRef('messages.cid', '=', 'channels.cid')
            .as('newest'),
        (eb) =>
          eb
            .selectFrom('messages')
            .select((m) => m.fn.countAll().as('n'))
            .whereRef('messages.app_id', '=', 'channels.app_id')
            .whereRef('messages.cid', '=', 'channels.cid')
            .as('stored'),
      ])
      .where('app_id', '=', appId)
      .where('cid', 'like', 'messaging:spread-%')
      .orderBy('cid')
      .execute();
    expect(rows.map((row) => [row.cid, Number(row.stored), row.last_message_at])).toEqual(
      rows.map((row) => [
        row.cid,
        row.cid === 'messaging:spread-frozen' ? 0 : row.cid === 'messaging:spread-00' ? 4 : 3,
        row.newest === null ? null : Number(row.newest),
      ]),
    );
  });

  it('reactions added, replaced, made unique and removed at once on one message', async () => {
    const channel = await newChannel('mixed');
    await channel.sendMessage({ id: 'mixed-1', text: 'react', user_id: 'u00' });
    expectAllSucceeded(
      await atOnce(40, (i) => channel.sendReaction('mixed-1', { type: 'like', user_id: ids('u', 40)[i]! })),
    );
    expectAllSucceeded(
      await atOnce<unknown>(60, (i) => {
        if (i < 20)
          return channel.sendReaction(
            'mixed-1',
            { type: 'love', user_id: ids('u', 20)[i]! },
            { enforce_unique: true },
          );
        if (i < 30) return channel.deleteReaction('mixed-1', 'like', ids('u', 10, 20)[i - 20]!);
        if (i < 40)
          return channel.sendReaction('mixed-1', {
            type: 'like',
            user_id: ids('u', 10, 30)[i - 30]!,
            score: 5,
          });
        return channel.sendReaction('mixed-1', { type: 'wow', user_id: ids('u', 20, 40)[i - 40]!, score: 2 });
      }),
    );
    const { message } = await client.getMessage('mixed-1');
    expect(message.reaction_counts).toEqual({ love: 20, like: 10, wow: 20 });
    expect(message.reaction_scores).toEqual({ love: 20, like: 50, wow: 40 });
  });

  it('one user sending reactions with enforce_unique at once keeps exactly one', async () => {
    const channel = await newChannel('unique');
    await channel.sendMessage({ id: 'unique-1', text: 'pick one', user_id: 'u00' });
    expectAllSucceeded(
      await atOnce(12, (i) =>
        channel.sendReaction('unique-1', { type: `t${i % 4}`, user_id: 'u01' }, { enforce_unique: true }),
      ),
    );
    const { message } = await client.getMessage('unique-1');
    expect(Object.values(message.reaction_counts!)).toEqual([1]);
  });

  it('replies sent while other replies are hard- and soft-deleted keep reply_count exact', async () => {
    const channel = await newChannel('churn');
    await channel.sendMessage({ id: 'churn-root', text: 'root', user_id: 'u00' });
    for (let i = 0; i < 30; i++) {
      await channel.sendMessage({ id: `churn-${i}`, text: 'r', user_id: 'u01', parent_id: 'churn-root' });
    }
    expectAllSucceeded(
      await atOnce<unknown>(70, (i) => {
        if (i < 20) return client.deleteMessage(`churn-${i}`, true);
        if (i < 30) return client.deleteMessage(`churn-${i}`);
        return channel.sendMessage({ text: `late ${i}`, user_id: 'u02', parent_id: 'churn-root' });
      }),
    );
    expect((await client.getMessage('churn-root')).message.reply_count).toBe(50);
  });

  it('a thread parent hard-deleted while replies and reactions arrive leaves no reply behind', async () => {
    const channel = await newChannel('doomed-thread');
    await channel.sendMessage({ id: 'doomed-root', text: 'root', user_id: 'u00' });
    await channel.sendMessage({ id: 'doomed-reply', text: 'r', user_id: 'u00', parent_id: 'doomed-root' });
    const results = await atOnce<unknown>(60, (i) => {
      if (i === 30) return client.deleteMessage('doomed-root', true);
      if (i % 3 === 0)
        return channel.sendReaction('doomed-reply', { type: 'like', user_id: ids('u', 60)[i]! });
      return channel.sendMessage({
        text: `reply ${i}`,
        user_id: 'u01',
        parent_id: 'doomed-root',
        show_in_channel: i % 2 === 0,
      });
    });
    expect(failureOf(results[30]!)).toBeUndefined();
    expectOnlyRefusals(results);
  });

  it('members added and removed at once, while one of them is hard-deleted', async () => {
    const channel = await newChannel('turnover', ids('u', 30));
    await client.upsertUsers([{ id: 'leaver' }]);
    await channel.addMembers(['leaver']);
    await channel.sendMessage({ id: 'turnover-1', text: 'x', user_id: 'u00' });
    await channel.sendReaction('turnover-1', { type: 'like', user_id: 'leaver' });
    expectAllSucceeded(
      await atOnce<unknown>(41, (i) => {
        if (i === 40) return client.deleteUser('leaver', { hard_delete: true });
        if (i < 20) return channel.removeMembers([ids('u', 20, 10)[i]!]);
        return channel.addMembers([ids('u', 20, 30)[i - 20]!]);
      }),
    );
    expect((await channel.query({})).channel.member_count).toBe(30);
  });

  it('a channel hard-deleted while messages, replies, reactions and members arrive leaves nothing behind', async () => {
    const channel = await newChannel('doomed', ids('u', 5));
    await channel.sendMessage({ id: 'doomed-a', text: 'a', user_id: 'u00' });
    await channel.sendMessage({ id: 'doomed-b', text: 'b', user_id: 'u00', parent_id: 'doomed-a' });
    const results = await atOnce<unknown>(80, (i) => {
      if (i === 40) return channel.delete({ hard_delete: true });
      const user = ids('u', 60)[i % 60]!;
      switch (i % 4) {
        case 0:
          return channel.sendMessage({ text: `m ${i}`, user_id: user });
        case 1:
          return channel.sendMessage({ text: `r ${i}`, user_id: user, parent_id: 'doomed-a' });
        case 2:
          return channel.sendReaction(i % 8 === 2 ? 'doomed-a' : 'doomed-b', { type: 'like', user_id: user });
        default:
          return channel.addMembers([user]);
      }
    });
    expect(failureOf(results[40]!)).toBeUndefined();
    expectOnlyRefusals(results);
    const left = await db
      .selectFrom('messages')
      .select('id')
      .where('app_id', '=', appId)
      .where('cid', '=', 'messaging:doomed')
      .execute();
    expect(left).toEqual([]);
  });

  it('hard truncation while replies and reactions arrive keeps every counter exact', async () => {
    const channel = await newChannel('trunc');
    for (let i = 0; i < 10; i++) await channel.sendMessage({ id: `trunc-${i}`, text: 'x', user_id: 'u00' });
    const results = await atOnce<unknown>(50, (i) => {
      if (i === 25) return channel.truncate({ hard_delete: true });
      if (i % 2 === 0)
        return channel.sendMessage({ text: 'r', user_id: 'u01', parent_id: `trunc-${i % 10}` });
      return channel.sendReaction(`trunc-${i % 10}`, { type: 'like', user_id: ids('u', 50)[i]! });
    });
    expect(failureOf(results[25]!)).toBeUndefined();
    expectOnlyRefusals(results);
  });

  it('delete-many tasks for users and channels running beside API writes', async () => {
    await client.upsertUsers(ids('gone', 5).map((id) => ({ id })));
    const keep = await newChannel('beside', [...ids('u', 10), ...ids('gone', 5)]);
    const doomed = await newChannel('beside-doomed', ids('u', 10));
    await keep.sendMessage({ id: 'beside-1', text: 'x', user_id: 'gone00' });
    await keep.sendMessage({ id: 'beside-2', text: 'y', user_id: 'u00' });
    await doomed.sendMessage({ id: 'beside-3', text: 'z', user_id: 'u00' });
    for (const user of ids('gone', 5)) await keep.sendReaction('beside-2', { type: 'like', user_id: user });
    const users = await client.deleteUsers(ids('gone', 5), { user: 'hard', messages: 'hard' });
    const channels = await client.deleteChannels(['messaging:beside-doomed'], { hard_delete: true });
    // Rounds of parallel writes until both tasks are done, so that writes overlap the task's work.
    const running = new Set([users.task_id, channels.task_id!]);
    for (let round = 0; round < 100 && running.size > 0; round++) {
      expectOnlyRefusals(
        await atOnce<unknown>(15, (i) => {
          const user = ids('u', 10)[(round + i) % 10]!;
          if (i % 3 === 0) return keep.sendReaction('beside-2', { type: `t${i % 5}`, user_id: user });
          if (i % 3 === 1) return keep.sendMessage({ text: 'r', user_id: user, parent_id: 'beside-2' });
          return doomed.sendReaction('beside-3', { type: 'like', user_id: user });
        }),
      );
      for (const id of running) {
        if (['completed', 'failed'].includes((await client.getTask(id)).status)) running.delete(id);
      }
    }
    expect((await waitForTask(client, users.task_id)).status).toBe('completed');
    expect((await waitForTask(client, channels.task_id!)).status).toBe('completed');
    expect((await keep.query({})).channel.member_count).toBe(10);
  });

  it('an import into the same channels and threads as API writes keeps every counter exact', async () => {
    const channel = await newChannel('imported', ids('u', 5));
    await channel.sendMessage({ id: 'imp-root', text: 'root', user_id: 'u00' });
    const line = (type: string, data: Record<string, unknown>) => JSON.stringify({ type, data });
    const lines = [
      ...ids('u', 20, 5).map((user) =>
        line('member', { channel_type: 'messaging', channel_id: 'imported', user_id: user }),
      ),
      ...Array.from({ length: 300 }, (_, i) =>
        line('message', {
          id: `imp-${i}`,
          channel_type: 'messaging',
          channel_id: 'imported',
          user: 'u01',
          text: 't',
          parent_id: i % 2 ? 'imp-root' : undefined,
        }),
      ),
      ...ids('u', 30, 30).map((user) =>
        line('reaction', { message_id: 'imp-root', user_id: user, type: 'wow' }),
      ),
    ];
    const [imported, ...results] = await Promise.allSettled([
      importLines({
        dialect: t.server.context.dialect,
        clock: t.server.context.clock,
        appId,
        input: lines,
        batchSize: 50,
      }),
      ...Array.from({ length: 60 }, (_, i) => {
        const user = ids('u', 30)[i % 30]!;
        if (i % 3 === 0) return channel.sendReaction('imp-root', { type: 'like', user_id: user });
        if (i % 3 === 1) return channel.sendMessage({ text: 'r', user_id: user, parent_id: 'imp-root' });
        return channel.addMembers([ids('u', 10, 40)[i % 10]!]);
      }),
    ]);
    expect(failureOf(imported!)).toBeUndefined();
    expectAllSucceeded(results);
    expect((await client.getMessage('imp-root')).message.reply_count).toBe(150 + 20);
  });

  it('parallel partial updates of one channel, one user and one message keep every field they set', async () => {
    const channel = await newChannel('patched');
    await channel.sendMessage({ id: 'patched-1', text: 'x', user_id: 'u00' });
    await client.upsertUsers([{ id: 'patched-user' }]);
    const keys = Array.from({ length: 20 }, (_, i) => `field_${i}`);
    expectAllSucceeded(
      await atOnce<unknown>(60, (i) => {
        const set = { [keys[i % 20]!]: i % 20 };
        if (i < 20) return channel.updatePartial({ set });
        if (i < 40) return client.partialUpdateUser({ id: 'patched-user', set });
        return client.partialUpdateMessage('patched-1', { set }, 'u00');
      }),
    );
    const expected = Object.fromEntries(keys.map((key, i) => [key, i]));
    expect((await channel.query({})).channel).toMatchObject(expected);
    expect((await client.queryUsers({ id: 'patched-user' })).users[0]).toMatchObject(expected);
    expect((await client.getMessage('patched-1')).message).toMatchObject(expected);
  });

  describe('get-or-create is idempotent under races', () => {
    it('10 parallel creations of the same new channel all answer with the one channel', async () => {
      const results = await atOnce(10, () =>
        client
          .channel('messaging', 'racing', { created_by_id: 'u00', members: ids('u', 3) } as never)
          .create(),
      );
      expectAllSucceeded(results);
      for (const result of results) {
        if (result.status === 'fulfilled')
          expect(result.value.channel).toMatchObject({ cid: 'messaging:racing', member_count: 3 });
      }
      const created = new Set(
        results.map((r) => (r.status === 'fulfilled' ? r.value.channel.created_at : '')),
      );
      expect(created.size).toBe(1);
    });

    it('parallel creations of the same member-named channel all answer with the one channel', async () => {
      const results = await atOnce(10, () =>
        client.channel('messaging', { created_by_id: 'u00', members: ['u01', 'u02'] } as never).create(),
      );
      expectAllSucceeded(results);
      const cids = new Set(results.map((r) => (r.status === 'fulfilled' ? r.value.channel.cid : '')));
      expect(cids.size).toBe(1);
    });

    it('parallel queries of a soft-deleted channel revive it once', async () => {
      const channel = await newChannel('phoenix', ids('u', 2));
      await channel.sendMessage({ text: 'before', user_id: 'u00' });
      const { channel: deleted } = await channel.delete();
      const results = await atOnce(10, () => client.channel('messaging', 'phoenix').query({}));
      expectAllSucceeded(results);
      for (const result of results) {
        if (result.status !== 'fulfilled') continue;
        expect(result.value.channel.deleted_at).toBeUndefined();
        expect(result.value.channel.truncated_at).toBe(deleted.deleted_at);
        expect(result.value.messages).toEqual([]);
      }
    });

    it('parallel upserts of the same new user all succeed and answer the stored created_at', async () => {
      const results = await atOnce(10, (i) => client.upsertUsers([{ id: 'newcomer', name: `try ${i}` }]));
      expectAllSucceeded(results);
      const { users } = await client.queryUsers({ id: 'newcomer' });
      for (const result of results) {
        if (result.status === 'fulfilled')
          expect(result.value.users.newcomer!.created_at).toBe(users[0]!.created_at);
      }
    });

    it('parallel adds of the same member count it once', async () => {
      const channel = await newChannel('same-member');
      expectAllSucceeded(await atOnce(10, () => channel.addMembers(['u09'])));
      expect((await channel.query({})).channel.member_count).toBe(2);
    });
  });
});
