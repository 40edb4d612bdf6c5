/**
 * `queryUsers` by name and with `$autocomplete`, through the `stream-chat` SDK on both databases: a
 * user's name is custom data, filtered in the database on both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe.each(testDialects)('queryUsers by name and $autocomplete (%s)', (dialect) => {
  let t: TestServer;
  const ids = async (filter: Record<string, unknown>) =>
    (await t.app.client.queryUsers(filter as never, { id: 1 })).users.map((u) => u.id);

  beforeAll(async () => {
    t = await startTestServer(dialect);
    await t.app.client.upsertUsers([
      { id: 'ann-1', name: 'Ann Smith' },
      { id: 'bob-2', name: 'Bob Annan' },
      { id: 'cy-3', name: 'Cyan' },
      { id: 'dee-4', name: '50%_off' },
      { id: 'eve-5' },
      { id: 'fay-6', name: 42 } as never,
    ]);
  });
  afterAll(() => t.close());

  it('filters by name as by any custom field: $eq, $in, $ne, $exists, comparisons, each JSON type its own', async () => {
    expect(await ids({ name: 'Cyan' })).toEqual(['cy-3']);
    expect(await ids({ name: { $in: ['Cyan', 'Ann Smith'] } })).toEqual(['ann-1', 'cy-3']);
    // Users without a name are not equal to one either.
    expect(await ids({ name: { $ne: 'Cyan' } })).toEqual(['ann-1', 'bob-2', 'dee-4', 'eve-5', 'fay-6']);
    expect(await ids({ name: { $exists: false } })).toEqual(['eve-5']);
    expect(await ids({ name: 42 })).toEqual(['fay-6']);
    expect(await ids({ name: '42' })).toEqual([]);
    expect(await ids({ name: { $gt: 'B' } })).toEqual(['bob-2', 'cy-3']);
  });

  it('$q on name matches anywhere in it, whatever the case', async () => {
    expect(await ids({ name: { $q: 'ANN' } })).toEqual(['ann-1', 'bob-2']);
    expect(await ids({ name: { $q: 'ya' } })).toEqual(['cy-3']);
  });

  it('$autocomplete on name matches the start of any word, whatever the case', async () => {
    expect(await ids({ name: { $autocomplete: 'ann' } })).toEqual(['ann-1', 'bob-2']);
    expect(await ids({ name: { $autocomplete: 'SMI' } })).toEqual(['ann-1']);
    expect(await ids({ name: { $autocomplete: 'yan' } })).toEqual([]);
    expect(await ids({ name: { $autocomplete: '50%_' } })).toEqual(['dee-4']);
    expect(await ids({ name: { $autocomplete: '%' } })).toEqual([]);
  });

  it('$autocomplete on id, combined with other conditions', async () => {
    expect(await ids({ id: { $autocomplete: 'b' } })).toEqual(['bob-2']);
    expect(await ids({ $or: [{ id: { $autocomplete: 'e' } }, { name: { $autocomplete: 'cy' } }] })).toEqual([
      'cy-3',
      'eve-5',
    ]);
  });

  it('refuses $autocomplete where it does not apply, and an empty one', async () => {
    for (const filter of [
      { role: { $autocomplete: 'u' } },
      { name: { $autocomplete: '' } },
      { name: { $regex: 'a' } },
      { name: { $gt: ['a'] } },
    ]) {
      await expect(t.app.client.queryUsers(filter as never)).rejects.toMatchObject({
        response: { status: 400, data: { code: 4 } },
      });
    }
  });
});
