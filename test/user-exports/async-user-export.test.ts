import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { expectStreamError, expectTimestampsEverywhere } from '../helpers/assertions.js';
import { waitForTask } from '../helpers/exports.js';
import { rawRequest } from '../helpers/raw-client.js';
import { insertMessages, insertReactions } from '../helpers/seed.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

interface Line {
  type: string;
  user_id: string;
  data: Record<string, unknown>;
}

describe.each(testDialects)('asynchronous user export, POST /export/users (%s)', (dialect) => {
  let t: TestServer;
  let appId: number;

  async function runExport(userIds: string[]) {
    const { task_id } = await t.app.client.exportUsers({ user_ids: userIds });
    const task = await waitForTask(t.app.client, task_id!);
    expect(task.status, JSON.stringify(task.error)).toBe('completed');
    const response = await fetch(task.result!.url!);
    expect(response.status).toBe(200);
    const text = await response.text();
    const lines = text
      .split('\n')
      .filter((l) => l)
      .map((l) => JSON.parse(l) as Line);
    return { task, lines };
  }

  beforeAll(async () => {
    t = await startTestServer(dialect);
    appId = t.app.id;
    const c = t.app.client;
    await c.upsertUsers([
      { id: 'subject', name: 'S', pronouns: 'they' } as never,
      { id: 'other' },
      { id: 'big' },
    ]);
    const open = c.channel('messaging', 'open', {
      created_by_id: 'other',
      members: ['subject', 'other'],
    } as never);
    const closed = c.channel('messaging', 'closed', {
      created_by_id: 'subject',
      members: ['subject'],
    } as never);
    await open.create();
    await closed.create();
    await open.sendMessage({ id: 'o-1', text: 'hello', user_id: 'other' });
    await open.sendMessage({ id: 's-1', text: 'mine', user_id: 'subject' });
    await open.sendMessage({ id: 's-r', text: 'thread', user_id: 'subject', parent_id: 'o-1' });
    await open.sendMessage({ id: 's-soft', text: 'oops', user_id: 'subject' });
    await open.sendMessage({ id: 's-hard', text: 'gone', user_id: 'subject' });
    await closed.sendMessage({ id: 's-closed', text: 'closed room', user_id: 'subject' });
    await open.sendReaction('o-1', { type: 'like', user_id: 'subject' });
    await open.sendReaction('s-1', { type: 'love', user_id: 'other' });
    await c.deleteMessage('s-soft');
    await c.deleteMessage('s-hard', true);
    await closed.delete();
  });
  afterAll(() => t.close());

  it('writes the user, their memberships, messages and reactions, one line each, matching the database', async () => {
    const { task, lines } = await runExport(['subject']);
    expect(lines[0]).toMatchObject({
      type: 'user',
      user_id: 'subject',
      data: { id: 'subject', pronouns: 'they' },
    });
    const of = (type: string) => lines.filter((l) => l.type === type);
    const db = t.server.context.db;
    const messages = await db
      .selectFrom('messages')
      .select('id')
      .where('app_id', '=', appId)
      .where('user_id', '=', 'subject')
      .execute();
    expect(
      of('message')
        .map((l) => l.data.id)
        .sort(),
    ).toEqual(messages.map((m) => m.id).sort());
    const reactions = await db
      .selectFrom('reactions')
      .selectAll()
      .where('app_id', '=', appId)
      .where('user_id', '=', 'subject')
      .execute();
    expect(of('reaction').map((l) => `${l.data.message_id}/${l.data.type}`)).toEqual(
      reactions.map((r) => `${r.message_id}/${r.type}`),
    );
    expect(
      of('member')
        .map((l) => l.data.cid)
        .sort(),
    ).toEqual(['messaging:closed', 'messaging:open']);
    expect(of('message').find((l) => l.data.id === 's-1')!.data).toMatchObject({
      text: 'mine',
      reaction_counts: { love: 1 },
    });
    expect(task.result).toMatchObject({
      users: 1,
      members: 2,
      messages: messages.length,
      reactions: reactions.length,
      skipped_users: [],
    });
    expectTimestampsEverywhere(lines);
  });

  it('marks soft-deleted messages and channels; hard-deleted data never appears', async () => {
    const { lines } = await runExport(['subject']);
    const message = (id: string) => lines.find((l) => l.type === 'message' && l.data.id === id)?.data;
    expect(message('s-soft')).toMatchObject({ type: 'deleted', text: 'oops' });
    expect(message('s-closed')!.channel_deleted_at).toBeTruthy();
    expect(message('s-hard')).toBeUndefined();
    const closedMembership = lines.find((l) => l.type === 'member' && l.data.cid === 'messaging:closed')!;
    expect((closedMembership.data.channel as Record<string, unknown>).deleted_at).toBeTruthy();
  });

  it('has no size limit: 10,001 messages and 10,001 reactions export whole, across pages that split ties', async () => {
    const db = t.server.context.db;
    await t.app.client
      .channel('messaging', 'big', { created_by_id: 'big', members: ['big'] } as never)
      .create();
    const ids = await insertMessages(db, appId, 'messaging:big', 10_001, {
      userId: 'big',
      idPrefix: 'big',
      startMicros: 1_600_000_000_000_000,
      perMicrosecond: 7,
    });
    await insertReactions(db, appId, ids, {
      userId: 'big',
      type: 'like',
      startMicros: 1_600_000_100_000_000,
    });
    await expectStreamError(t.app.client.exportUser('big'), { status: 400, code: 4 });
    const { lines, task } = await runExport(['big', 'subject']);
    expect(lines.filter((l) => l.type === 'message' && l.user_id === 'big')).toHaveLength(10_001);
    expect(lines.filter((l) => l.type === 'reaction' && l.user_id === 'big')).toHaveLength(10_001);
    const bigMessageIds = lines
      .filter((l) => l.type === 'message' && l.user_id === 'big')
      .map((l) => l.data.id as string);
    expect(bigMessageIds).toEqual(ids);

    expect(task.result).toMatchObject({ users: 2 });
  });

  it('is server-side only, refuses unknown, hard-deleted and other apps’ users with 404, and 1 to 25 ids', async () => {
    const user = await rawRequest(t.baseURL, 'POST', '/export/users', {
      apiKey: t.app.apiKey,
      token: t.app.client.createToken('subject'),
      body: { user_ids: ['subject'] },
    });
    expect([user.status, user.body.code]).toEqual([403, 17]);
    await expectStreamError(t.app.client.exportUsers({ user_ids: ['subject', 'nobody'] }), {
      status: 404,
      code: 16,
    });
    await t.app.client.upsertUser({ id: 'erased' });
    await t.app.client.deleteUser('erased', { hard_delete: true });
    await expectStreamError(t.app.client.exportUsers({ user_ids: ['erased'] }), { status: 404, code: 16 });
    const other = await t.createTestApp('other');
    await expectStreamError(other.client.exportUsers({ user_ids: ['subject'] }), { status: 404, code: 16 });
    await expectStreamError(t.app.client.exportUsers({ user_ids: [] }), { status: 400, code: 4 });
    const many = Array.from({ length: 26 }, (_, i) => `u${i}`);
    await expectStreamError(t.app.client.exportUsers({ user_ids: many }), { status: 400, code: 4 });
  });
});
