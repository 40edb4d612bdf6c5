import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { expectStreamError, expectTimestampsEverywhere } from '../helpers/assertions.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe.each(testDialects)('users through the stream-chat SDK (%s)', (dialect) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(dialect);
  });
  afterAll(() => t.close());

  it('upserts users with custom fields and returns them keyed by id', async () => {
    const response = await t.app.client.upsertUsers([
      { id: 'alice', name: 'Alice', role: 'admin', favourite: { colour: 'blue' } } as never,
      { id: 'bob', name: 'Bob' },
    ]);
    expect(response.users.alice).toMatchObject({
      id: 'alice',
      name: 'Alice',
      role: 'admin',
      favourite: { colour: 'blue' },
    });
    expect(response.users.bob).toMatchObject({ id: 'bob', role: 'user', banned: false });
    expectTimestampsEverywhere(response);
  });

  it('upsert replaces every field not sent but keeps created_at', async () => {
    const first = await t.app.client.upsertUser({ id: 'carol', name: 'Carol', team_colour: 'red' } as never);
    const second = await t.app.client.upsertUser({ id: 'carol', nickname: 'C' } as never);
    expect(second.users.carol).toMatchObject({ id: 'carol', nickname: 'C' });
    expect(second.users.carol).not.toHaveProperty('name');
    expect(second.users.carol).not.toHaveProperty('team_colour');
    expect(second.users.carol!.created_at).toBe(first.users.carol!.created_at);
  });

  it('partially updates users with set and unset', async () => {
    await t.app.client.upsertUser({ id: 'dave', name: 'Dave', mood: 'fine', role: 'user' } as never);
    const response = await t.app.client.partialUpdateUser({
      id: 'dave',
      set: { mood: 'great', role: 'admin' } as never,
      unset: ['name'],
    });
    expect(response.users.dave).toMatchObject({ id: 'dave', mood: 'great', role: 'admin' });
    expect(response.users.dave).not.toHaveProperty('name');
  });

  it('a partial update of an unknown user is 404 code 16', async () => {
    await expectStreamError(t.app.client.partialUpdateUser({ id: 'nobody', set: { a: 1 } as never }), {
      status: 404,
      code: 16,
    });
  });

  it('queries users by id and role with $eq and $in, sorted, with limit and offset', async () => {
    await t.app.client.upsertUsers([
      { id: 'q1', role: 'guest' },
      { id: 'q2', role: 'guest' },
      { id: 'q3', role: 'guest' },
      { id: 'q4', role: 'user' },
    ]);
    const byIn = await t.app.client.queryUsers({ id: { $in: ['q1', 'q3', 'q4'] } }, { id: -1 });
    expect(byIn.users.map((u) => u.id)).toEqual(['q4', 'q3', 'q1']);
    const byRole = await t.app.client.queryUsers({ role: { $eq: 'guest' } }, [{ id: 1 }] as never, {
      limit: 2,
      offset: 1,
    });
    expect(byRole.users.map((u) => u.id)).toEqual(['q2', 'q3']);
    const bare = await t.app.client.queryUsers({ id: 'q2' });
    expect(bare.users.map((u) => u.id)).toEqual(['q2']);
    const combined = await t.app.client.queryUsers({
      $and: [{ role: 'guest' }, { id: { $in: ['q1', 'q4'] } }],
    });
    expect(combined.users.map((u) => u.id)).toEqual(['q1']);
  });

  it('refuses a filter on an unknown field with 400 code 4 naming it', async () => {
    const error = await expectStreamError(t.app.client.queryUsers({ shoe_size: 3 } as never), {
      status: 400,
      code: 4,
    });
    expect(error.exception_fields).toHaveProperty(['filter_conditions.shoe_size']);
  });

  it('soft-deletes a user (kept, marked) and restores it', async () => {
    await t.app.client.upsertUser({ id: 'erin' });
    const deleted = await t.app.client.deleteUser('erin');
    expect(deleted.user).toMatchObject({ id: 'erin' });
    expect(deleted.user.deleted_at).toBeTruthy();
    const after = await t.app.client.queryUsers({ id: 'erin' });
    expect(after.users[0]!.deleted_at).toBeTruthy();
    await t.app.client.restoreUsers(['erin']);
    const restored = await t.app.client.queryUsers({ id: 'erin' });
    expect(restored.users[0]!.deleted_at).toBeUndefined();
  });

  it('hard-deletes a user: gone from queries', async () => {
    await t.app.client.upsertUser({ id: 'frank' });
    await t.app.client.deleteUser('frank', { hard_delete: true });
    const after = await t.app.client.queryUsers({ id: 'frank' });
    expect(after.users).toEqual([]);
    await expectStreamError(t.app.client.deleteUser('frank'), { status: 404, code: 16 });
  });
});
