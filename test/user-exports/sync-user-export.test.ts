import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { expectStreamError, expectTimestampsEverywhere } from '../helpers/assertions.js';
import { rawRequest } from '../helpers/raw-client.js';
import { insertMessages, insertReactions } from '../helpers/seed.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe.each(testDialects)('synchronous user export, GET /users/{id}/export (%s)', (dialect) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(dialect);
    const c = t.app.client;
    await c.upsertUsers([
      { id: 'subject', name: 'Data Subject', shoe_size: 44, address: { city: 'Utrecht' } } as never,
      { id: 'friend' },
    ]);
    const general = c.channel('messaging', 'general', {
      created_by_id: 'friend',
      members: ['subject', 'friend'],
    } as never);
    const side = c.channel('messaging', 'side', { created_by_id: 'subject', members: ['subject'] } as never);
    const closed = c.channel('messaging', 'closed', {
      created_by_id: 'subject',
      members: ['subject'],
    } as never);
    await general.create();
    await side.create();
    await closed.create();
    await general.sendMessage({ id: 's-1', text: 'first', user_id: 'subject', mood: 'happy' } as never);
    await general.sendMessage({ id: 'f-1', text: 'friend speaks', user_id: 'friend' });
    await general.sendMessage({ id: 's-reply', text: 'in thread', user_id: 'subject', parent_id: 'f-1' });
    await side.sendMessage({ id: 's-2', text: 'elsewhere', user_id: 'subject' });
    await side.sendMessage({ id: 's-soft', text: 'regretted', user_id: 'subject' });
    await side.sendMessage({ id: 's-hard', text: 'erased', user_id: 'subject' });
    await closed.sendMessage({ id: 's-closed', text: 'in a closed channel', user_id: 'subject' });
    await c.deleteMessage('s-soft');
    await c.deleteMessage('s-hard', true);
    await closed.delete();
    await general.sendReaction('f-1', { type: 'like', user_id: 'subject' });
    await general.sendReaction('s-1', { type: 'love', user_id: 'friend' });
  });
  afterAll(() => t.close());

  it('carries the user with every custom field, their messages (replies too) and their reactions', async () => {
    const exported = (await t.app.client.exportUser('subject')) as unknown as {
      user: Record<string, unknown>;
      messages: Array<Record<string, unknown>>;
      reactions: Array<Record<string, unknown>>;
      duration: string;
    };
    expect(exported.user).toMatchObject({
      id: 'subject',
      name: 'Data Subject',
      shoe_size: 44,
      address: { city: 'Utrecht' },
    });
    // Ground truth: the database's own rows for this user.
    const db = t.server.context.db;
    const appId = t.app.id;
    const messageRows = await db
      .selectFrom('messages')
      .select('id')
      .where('app_id', '=', appId)
      .where('user_id', '=', 'subject')
      .execute();
    expect(exported.messages.map((m) => m.id).sort()).toEqual(messageRows.map((r) => r.id).sort());
    expect(exported.messages.map((m) => m.id).sort()).toEqual([
      's-1',
      's-2',
      's-closed',
      's-reply',
      's-soft',
    ]);
    const reactionRows = await db
      .selectFrom('reactions')
      .selectAll()
      .where('app_id', '=', appId)
      .where('user_id', '=', 'subject')
      .execute();
    expect(exported.reactions).toHaveLength(reactionRows.length);
    expect(exported.reactions[0]).toMatchObject({
      message_id: 'f-1',
      type: 'like',
      user_id: 'subject',
      user: { id: 'subject' },
    });
    const first = exported.messages.find((m) => m.id === 's-1')!;
    expect(first).toMatchObject({
      text: 'first',
      mood: 'happy',
      cid: 'messaging:general',
      reaction_counts: { love: 1 },
    });
    expect(exported.messages.find((m) => m.id === 's-reply')).toMatchObject({
      parent_id: 'f-1',
      type: 'reply',
    });
    expectTimestampsEverywhere(exported);
  });

  it('data protection: soft-deleted data is included and marked; hard-deleted data never appears', async () => {
    const exported = (await t.app.client.exportUser('subject')) as unknown as {
      messages: Array<Record<string, unknown>>;
    };
    const soft = exported.messages.find((m) => m.id === 's-soft')!;
    expect(soft).toMatchObject({ type: 'deleted', text: 'regretted' });
    expect(soft.deleted_at).toBeTruthy();
    const inClosed = exported.messages.find((m) => m.id === 's-closed')!;
    expect(inClosed.channel_deleted_at).toBeTruthy();
    expect(exported.messages.find((m) => m.id === 's-1')).not.toHaveProperty('channel_deleted_at');
    expect(exported.messages.some((m) => m.id === 's-hard')).toBe(false);
  });

  it('is server-side only: a user token gets 403 code 17, even for its own id', async () => {
    const response = await rawRequest(t.baseURL, 'GET', '/users/subject/export', {
      apiKey: t.app.apiKey,
      token: t.app.client.createToken('subject'),
    });
    expect([response.status, response.body.code]).toEqual([403, 17]);
  });

  it('an unknown user, another app’s user and a hard-deleted user are 404 code 16', async () => {
    await expectStreamError(t.app.client.exportUser('nobody'), { status: 404, code: 16 });
    const other = await t.createTestApp('other');
    await expectStreamError(other.client.exportUser('subject'), { status: 404, code: 16 });
    await t.app.client.upsertUser({ id: 'leaver' });
    await t.app.client.deleteUser('leaver', { hard_delete: true });
    await expectStreamError(t.app.client.exportUser('leaver'), { status: 404, code: 16 });
  });

  it('a soft-deleted user can still be exported, marked deleted', async () => {
    await t.app.client.upsertUser({ id: 'paused' });
    await t.app.client.deleteUser('paused');
    const exported = (await t.app.client.exportUser('paused')) as unknown as {
      user: Record<string, unknown>;
    };
    expect(exported.user.deleted_at).toBeTruthy();
  });

  it('answers exactly 10,000 messages, and refuses 10,001 with 400 code 4 pointing to POST /export/users', async () => {
    const db = t.server.context.db;
    const appId = t.app.id;
    await t.app.client.upsertUsers([{ id: 'chatty' }, { id: 'too-chatty' }]);
    await t.app.client
      .channel('messaging', 'bulk', { created_by_id: 'chatty', members: ['chatty'] } as never)
      .create();
    await insertMessages(db, appId, 'messaging:bulk', 10_000, {
      userId: 'chatty',
      idPrefix: 'chatty',
      startMicros: 1_700_000_000_000_000,
    });
    await insertMessages(db, appId, 'messaging:bulk', 10_001, {
      userId: 'too-chatty',
      idPrefix: 'too',
      startMicros: 1_700_000_100_000_000,
    });
    const ok = (await t.app.client.exportUser('chatty')) as unknown as { messages: unknown[] };
    expect(ok.messages).toHaveLength(10_000);
    const error = await expectStreamError(t.app.client.exportUser('too-chatty'), { status: 400, code: 4 });
    expect(error.message).toMatch(/more than 10000 messages/);
    expect(error.message).toMatch(/POST \/export\/users/);
  });

  it('refuses a user with 10,001 reactions the same way', async () => {
    const db = t.server.context.db;
    const appId = t.app.id;
    await t.app.client.upsertUser({ id: 'reactor' });
    const ids = (
      await db
        .selectFrom('messages')
        .select('id')
        .where('app_id', '=', appId)
        .where('user_id', '=', 'too-chatty')
        .execute()
    ).map((r) => r.id);
    await insertReactions(db, appId, ids, {
      userId: 'reactor',
      type: 'like',
      startMicros: 1_700_000_200_000_000,
    });
    const error = await expectStreamError(t.app.client.exportUser('reactor'), { status: 400, code: 4 });
    expect(error.message).toMatch(/more than 10000 reactions/);
  });
});
