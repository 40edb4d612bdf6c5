import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/database/database.types.js';
import { formatMicros } from '../../src/lib/time.js';
import { testDialects } from '../helpers/databases.js';
import { expectStreamError, expectTimestampsEverywhere } from '../helpers/assertions.js';
import { exportAndDownload, parseV2, type V1Record } from '../helpers/exports.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe.each(testDialects)('channel exports, from request to downloaded file (%s)', (dialect) => {
  let t: TestServer;
  let db: Kysely<Database>;
  let appId: number;
  const times: Record<string, string> = {};

  /** Ground truth: what the database holds for a channel. */
  async function truth(cid: string) {
    const messages = await db
      .selectFrom('messages')
      .selectAll()
      .where('app_id', '=', appId)
      .where('cid', '=', cid)
      .execute();
    const ids = messages.map((m) => m.id);
    const reactions =
      ids.length === 0
        ? []
        : await db
            .selectFrom('reactions')
            .selectAll()
            .where('app_id', '=', appId)
            .where('message_id', 'in', ids)
            .execute();
    const members = await db
      .selectFrom('members')
      .selectAll()
      .where('app_id', '=', appId)
      .where('cid', '=', cid)
      .execute();
    return { messages, reactions, members };
  }

  beforeAll(async () => {
    t = await startTestServer(dialect);
    db = t.server.context.db;
    appId = t.app.id;
    const c = t.app.client;
    await c.upsertUsers([
      { id: 'ann', name: 'Ann', title: 'lead' } as never,
      { id: 'ben', name: 'Ben' },
      { id: 'cat' },
      { id: 'dan' },
      { id: 'outsider' },
    ]);
    const main = c.channel('messaging', 'main', {
      created_by_id: 'ann',
      members: ['ann', 'ben', 'cat'],
      topic: 'export me',
    } as never);
    await main.create();
    const send = async (id: string, user: string, extra: Record<string, unknown> = {}) => {
      const { message } = await main.sendMessage({
        id,
        text: `text of ${id}`,
        user_id: user,
        ...extra,
      } as never);
      times[id] = message.created_at!;
    };
    await send('m1', 'ann', {
      attachments: [{ type: 'file', asset_url: 'https://x/y.pdf' }],
      mentioned_users: ['dan'],
      priority: 3,
    });
    await send('m2', 'ben');
    await send('m1-r1', 'cat', { parent_id: 'm1' });
    await send('m1-r2', 'ben', { parent_id: 'm1', show_in_channel: true });
    await send('m3', 'ann');
    await send('soft', 'ben');
    await send('hard', 'cat');
    await send('m4', 'cat', { quoted_message_id: 'm2' });
    await main.sendReaction('m1', { type: 'like', user_id: 'ben' });
    await main.sendReaction('m1', { type: 'love', user_id: 'outsider', score: 5 });
    await main.sendReaction('m1-r1', { type: 'like', user_id: 'ann' });
    await main.sendReaction('m3', { type: 'wow', user_id: 'cat' });
    await main.sendReaction('hard', { type: 'like', user_id: 'ann' });
    await c.deleteMessage('soft');
    await c.deleteMessage('hard', true);

    const truncated = c.channel('messaging', 'truncated', {
      created_by_id: 'ann',
      members: ['ann'],
    } as never);
    await truncated.create();
    await truncated.sendMessage({ id: 't-old', text: 'old', user_id: 'ann' });
    await truncated.truncate({ user_id: 'ann' } as never);
    await truncated.sendMessage({ id: 't-new', text: 'new', user_id: 'ann' });

    const gone = c.channel('messaging', 'gone', { created_by_id: 'dan', members: ['dan'] } as never);
    await gone.create();
    await gone.sendMessage({ id: 'g-1', text: 'in a deleted channel', user_id: 'dan' });
    await gone.delete();
  });
  afterAll(() => t.close());

  it('v1 carries the channel, every member and every message and reply exactly once, with every reaction', async () => {
    const { task, text } = await exportAndDownload(t.app.client, [{ type: 'messaging', id: 'main' }]);
    const records = JSON.parse(text) as V1Record[];
    expect(records).toHaveLength(1);
    const [record] = records as [V1Record];
    const db_ = await truth('messaging:main');
    expect(record.channel).toMatchObject({
      cid: 'messaging:main',
      topic: 'export me',
      created_by: { id: 'ann', title: 'lead' },
    });
    expect(record.members.map((m) => m.user_id).sort()).toEqual(db_.members.map((m) => m.user_id).sort());
    // Messages: exactly the database's rows, in (created_at, id) order, nothing extra.
    const expectedOrder = [...db_.messages]
      .sort((a, b) => a.created_at - b.created_at || a.id.localeCompare(b.id))
      .map((m) => m.id);
    expect(record.messages.map((m) => m.id)).toEqual(expectedOrder);
    expect(new Set(record.messages.map((m) => m.id)).size).toBe(record.messages.length);
    expect(record.messages.map((m) => m.id)).not.toContain('hard');
    // Reactions: every one, on its message.
    const exportedReactions = record.messages.flatMap((m) =>
      m.latest_reactions.map((r) => `${m.id}/${r.user_id}/${r.type}/${r.score}`),
    );
    expect(exportedReactions.sort()).toEqual(
      db_.reactions.map((r) => `${r.message_id}/${r.user_id}/${r.type}/${r.score}`).sort(),
    );
    expect(task.result).toMatchObject({
      version: 'v1',
      channels: 1,
      members: db_.members.length,
      messages: db_.messages.length,
      reactions: db_.reactions.length,
      users: 0,
      skipped_channels: [],
    });
    expectTimestampsEverywhere(records);
  });

  it('each v1 message has the API’s own shape: the same as GET /messages/{id}', async () => {
    const { text } = await exportAndDownload(t.app.client, [{ cid: 'messaging:main' }]);
    const [record] = JSON.parse(text) as [V1Record];
    for (const exported of record.messages) {
      const { message } = await t.app.client.getMessage(exported.id);
      const {
        latest_reactions: apiLatest,
        quoted_message: _quoted,
        ...api
      } = message as unknown as Record<string, unknown>;
      const { latest_reactions: fileLatest, ...file } = exported;
      expect(file, exported.id).toEqual(api);
      expect((apiLatest as unknown[]).length).toBeLessThanOrEqual(fileLatest.length);
    }
    const m1 = record.messages.find((m) => m.id === 'm1')!;
    expect(m1).toMatchObject({
      priority: 3,
      attachments: [{ type: 'file', asset_url: 'https://x/y.pdf' }],
      mentioned_users: [{ id: 'dan' }],
      reply_count: 2,
      reaction_counts: { like: 1, love: 1 },
      reaction_scores: { like: 1, love: 5 },
    });
    expect(record.messages.find((m) => m.id === 'm1-r1')).toMatchObject({ parent_id: 'm1', type: 'reply' });
    expect(record.messages.find((m) => m.id === 'soft')).toMatchObject({
      type: 'deleted',
      text: 'text of soft',
    });
  });

  it('v2 is Stream’s import shape, in the order users, channels, members, messages, reactions', async () => {
    const { text, task } = await exportAndDownload(t.app.client, [{ type: 'messaging', id: 'main' }], {
      version: 'v2',
      export_users: true,
    });
    const lines = parseV2(text);
    const order = ['user', 'channel', 'member', 'message', 'reaction'];
    const ranks = lines.map((l) => order.indexOf(l.type));
    expect(ranks.every((rank) => rank >= 0)).toBe(true);
    expect([...ranks].sort((a, b) => a - b)).toEqual(ranks);
    const db_ = await truth('messaging:main');
    const of = (type: string) => lines.filter((l) => l.type === type).map((l) => l.data);
    expect(of('channel')).toEqual([
      expect.objectContaining({ id: 'main', type: 'messaging', created_by: 'ann', topic: 'export me' }),
    ]);
    expect(
      of('member')
        .map((m) => m.user_id)
        .sort(),
    ).toEqual(db_.members.map((m) => m.user_id).sort());
    expect(
      of('message')
        .map((m) => m.id)
        .sort(),
    ).toEqual(db_.messages.map((m) => m.id).sort());
    for (const message of of('message')) {
      expect(message).toMatchObject({
        channel_type: 'messaging',
        channel_id: 'main',
        user: expect.any(String),
      });
    }
    expect(
      of('reaction')
        .map((r) => `${r.message_id}/${r.user_id}/${r.type}`)
        .sort(),
    ).toEqual(db_.reactions.map((r) => `${r.message_id}/${r.user_id}/${r.type}`).sort());
    // Users: everyone the file names (members, authors, mentions, reactors, creator), and no one else.
    const named = new Set<string>(['ann']);
    for (const m of db_.members) named.add(m.user_id);
    for (const m of db_.messages) {
      named.add(m.user_id);
      for (const id of JSON.parse(m.mentioned_users) as string[]) named.add(id);
    }
    for (const r of db_.reactions) named.add(r.user_id);
    expect(
      of('user')
        .map((u) => u.id)
        .sort(),
    ).toEqual([...named].sort());
    expect(of('user').find((u) => u.id === 'ann')).toMatchObject({ name: 'Ann', title: 'lead' });
    expect(task.result).toMatchObject({
      users: named.size,
      messages: db_.messages.length,
      reactions: db_.reactions.length,
    });
    expectTimestampsEverywhere(lines);
  });

  it('export_users adds, to each v1 record, the users the channel refers to', async () => {
    const { text } = await exportAndDownload(t.app.client, [{ type: 'messaging', id: 'main' }], {
      export_users: true,
    });
    const [record] = JSON.parse(text) as [V1Record];
    expect(record.users!.map((u) => u.id).sort()).toEqual(['ann', 'ben', 'cat', 'dan', 'outsider']);
    const { text: without } = await exportAndDownload(t.app.client, [{ type: 'messaging', id: 'main' }], {
      version: 'v2',
    });
    expect(parseV2(without).some((l) => l.type === 'user')).toBe(false);
  });

  it('leaves out messages at or before truncated_at unless include_truncated_messages', async () => {
    const byDefault = JSON.parse(
      (await exportAndDownload(t.app.client, [{ cid: 'messaging:truncated' }])).text,
    ) as V1Record[];
    expect(byDefault[0]!.messages.map((m) => m.id)).toEqual(['t-new']);
    expect(byDefault[0]!.channel.truncated_at).toBeTruthy();
    const included = JSON.parse(
      (
        await exportAndDownload(t.app.client, [{ cid: 'messaging:truncated' }], {
          include_truncated_messages: true,
        })
      ).text,
    ) as V1Record[];
    expect(included[0]!.messages.map((m) => m.id)).toEqual(['t-old', 't-new']);
  });

  it('leaves out soft-deleted channels, saying so in the result, unless include_soft_deleted_channels', async () => {
    const { task, text } = await exportAndDownload(t.app.client, [
      { cid: 'messaging:gone' },
      { cid: 'messaging:truncated' },
    ]);
    const records = JSON.parse(text) as V1Record[];
    expect(records.map((r) => r.channel.cid)).toEqual(['messaging:truncated']);
    expect(task.result!.skipped_channels).toEqual([{ cid: 'messaging:gone', reason: 'soft_deleted' }]);
    const withDeleted = await exportAndDownload(t.app.client, [{ cid: 'messaging:gone' }], {
      include_soft_deleted_channels: true,
      version: 'v2',
    });
    const lines = parseV2(withDeleted.text);
    expect(lines.find((l) => l.type === 'channel')!.data.deleted_at).toBeTruthy();
    expect(lines.filter((l) => l.type === 'message').map((l) => l.data.id)).toEqual(['g-1']);
  });

  it('bounds messages by created_at: messages_since inclusive, messages_until exclusive', async () => {
    const { text } = await exportAndDownload(t.app.client, [
      { type: 'messaging', id: 'main', messages_since: times['m2'], messages_until: times['m3'] },
    ]);
    const [record] = JSON.parse(text) as [V1Record];
    expect(record.messages.map((m) => m.id)).toEqual(['m2', 'm1-r1', 'm1-r2']);
    const since = await exportAndDownload(
      t.app.client,
      [{ type: 'messaging', id: 'main', messages_since: times['m4'], messages_until: null }],
      {
        version: 'v2',
      },
    );
    expect(
      parseV2(since.text)
        .filter((l) => l.type === 'message')
        .map((l) => l.data.id),
    ).toEqual(['m4']);
  });

  it('clear_deleted_message_text blanks soft-deleted messages only', async () => {
    const v1 = JSON.parse(
      (
        await exportAndDownload(t.app.client, [{ cid: 'messaging:main' }], {
          clear_deleted_message_text: true,
        })
      ).text,
    ) as V1Record[];
    expect(v1[0]!.messages.find((m) => m.id === 'soft')).toMatchObject({
      type: 'deleted',
      text: '',
      html: '',
    });
    expect(v1[0]!.messages.find((m) => m.id === 'm2')).toMatchObject({ text: 'text of m2' });
    const v2 = parseV2(
      (
        await exportAndDownload(t.app.client, [{ cid: 'messaging:main' }], {
          clear_deleted_message_text: true,
          version: 'v2',
        })
      ).text,
    );
    expect(v2.find((l) => l.type === 'message' && l.data.id === 'soft')!.data).toMatchObject({
      text: '',
      type: 'deleted',
    });
  });

  it('exports several channels into one file, in the order asked', async () => {
    const { text, task } = await exportAndDownload(t.app.client, [
      { cid: 'messaging:truncated' },
      { cid: 'messaging:main' },
    ]);
    expect((JSON.parse(text) as V1Record[]).map((r) => r.channel.cid)).toEqual([
      'messaging:truncated',
      'messaging:main',
    ]);
    expect(task.result!.channels).toBe(2);
  });

  it('the status routes agree, and each status request signs a fresh link', async () => {
    const { task } = await exportAndDownload(t.app.client, [{ cid: 'messaging:main' }]);
    const viaExport = (await t.app.client.getExportChannelStatus(task.task_id)) as unknown as typeof task;
    expect(viaExport).toMatchObject({ task_id: task.task_id, status: 'completed' });
    expect(viaExport.result!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/downloads\//);
    expect(viaExport.created_at).toMatch(/\.\d{6}Z$/);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const later = (await t.app.client.getTask(task.task_id)) as unknown as typeof task;
    expect(later.result!.url).not.toBe(task.result!.url);
    const fresh = await fetch(later.result!.url!);
    expect(fresh.status).toBe(200);
    await fresh.arrayBuffer();
    const tampered = later.result!.url!.replace(
      /signature=([^&])/,
      (_m, c: string) => `signature=${c === 'A' ? 'B' : 'A'}`,
    );
    const refused = await fetch(tampered);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 17 });
  });

  it('refuses bad requests with 400 code 4 naming the field, and queues nothing', async () => {
    const count = async () =>
      Number((await db.selectFrom('tasks').select(db.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const before = await count();
    const c = t.app.client;
    const fieldOf = async (promise: Promise<unknown>) =>
      Object.keys((await expectStreamError(promise, { status: 400, code: 4 })).exception_fields as object);
    expect(await fieldOf(c.exportChannels([]))).toEqual(['channels']);
    const many = Array.from({ length: 26 }, (_, i) => ({ type: 'messaging', id: `c${i}` }));
    expect(await fieldOf(c.exportChannels(many))).toEqual(['channels']);
    expect(
      await fieldOf(
        c.exportChannels([{ type: 'messaging', id: 'main', messages_since: 'last tuesday' } as never]),
      ),
    ).toEqual(['channels.0.messages_since']);
    expect(
      await fieldOf(
        c.exportChannels([
          {
            type: 'messaging',
            id: 'main',
            messages_since: times['m3'],
            messages_until: times['m2'],
          } as never,
        ]),
      ),
    ).toEqual(['channels.0.messages_since']);
    expect(await fieldOf(c.exportChannels([{ cid: 'messaging:main' }], { version: 'v3' } as never))).toEqual([
      'version',
    ]);
    expect(
      await fieldOf(c.exportChannels([{ cid: 'messaging:main' }, { cid: 'messaging:nowhere' }])),
    ).toEqual(['channels.1']);
    expect(await fieldOf(c.exportChannels([{ cid: 'not-a-cid' }]))).toEqual(['channels.0']);
    expect(await count()).toBe(before);
  });

  it('an unknown task id, or another app’s, is 404 code 16 on both status routes', async () => {
    const { task } = await exportAndDownload(t.app.client, [{ cid: 'messaging:main' }]);
    const other = await t.createTestApp('other');
    await expectStreamError(other.client.getTask(task.task_id), { status: 404, code: 16 });
    await expectStreamError(other.client.getExportChannelStatus(task.task_id), { status: 404, code: 16 });
    await expectStreamError(t.app.client.getTask('00000000-0000-4000-8000-000000000000'), {
      status: 404,
      code: 16,
    });
  });

  it('timestamps in the file carry microseconds exactly as stored', async () => {
    const { text } = await exportAndDownload(t.app.client, [{ cid: 'messaging:main' }]);
    const [record] = JSON.parse(text) as [V1Record];
    const row = await db
      .selectFrom('messages')
      .select('created_at')
      .where('app_id', '=', appId)
      .where('id', '=', 'm1')
      .executeTakeFirstOrThrow();
    expect(record.messages.find((m) => m.id === 'm1')!.created_at).toBe(formatMicros(row.created_at));
  });
});
