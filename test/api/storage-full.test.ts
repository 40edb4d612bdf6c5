import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { signToken } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe.each(testDialects)('writes when the database has no room left (%s)', (dialect) => {
  let t: TestServer;
  let token: string;

  /**
   * A full disk, as each database reports it: SQLite's real SQLITE_FULL once the file may not grow
   * (`max_page_count` on the server's own connection), PostgreSQL's disk_full (53100) raised by the
   * server on every write to the tables these requests touch.
   */
  async function fillStorage() {
    const db = t.server.context.db;
    if (dialect === 'sqlite') {
      const { rows } = await sql<{ page_count: number }>`pragma page_count`.execute(db);
      await sql.raw(`pragma max_page_count = ${rows[0]!.page_count}`).execute(db);
      return;
    }
    await sql`create function disk_is_full() returns trigger language plpgsql as $$
      begin raise exception 'could not extend file: No space left on device' using errcode = 'disk_full'; end $$`.execute(
      db,
    );
    for (const table of ['messages', 'users']) {
      await sql
        .raw(
          `create trigger ${table}_disk_full before insert or update on ${table} execute function disk_is_full()`,
        )
        .execute(db);
    }
  }

  async function freeStorage() {
    const db = t.server.context.db;
    if (dialect === 'sqlite') await sql.raw('pragma max_page_count = 4294967294').execute(db);
    else await sql`drop function disk_is_full() cascade`.execute(db);
  }

  const post = (path: string, body: unknown) =>
    fetch(`${t.baseURL}${path}?api_key=${t.app.apiKey}`, {
      method: 'POST',
      headers: { authorization: token, 'stream-auth-type': 'jwt', 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const countMessages = async () => {
    const db = t.server.context.db;
    return Number(
      (await db.selectFrom('messages').select(db.fn.countAll().as('n')).executeTakeFirstOrThrow()).n,
    );
  };

  beforeAll(async () => {
    t = await startTestServer(dialect);
    token = await signToken(t.app.apiSecret, { server: true });
    await t.app.client.upsertUsers([{ id: 'ann' }]);
    await t.app.client
      .channel('messaging', 'c1', { created_by_id: 'ann', members: ['ann'] } as never)
      .create();
  });
  afterAll(() => t.close());

  it('answers 503 code -1 with Retry-After, saves nothing, and the same write succeeds once there is room', async () => {
    const message = { message: { id: 'big', text: 'x'.repeat(20_000), user_id: 'ann' } };
    const user = { users: { ann: { id: 'ann', bio: 'y'.repeat(200_000) } } };
    const before = await countMessages();
    await fillStorage();
    try {
      for (const [path, body] of [
        ['/channels/messaging/c1/message', message],
        ['/users', user],
      ] as const) {
        const response = await post(path, body);
        expect(response.status, path).toBe(503);
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
        const error = (await response.json()) as Record<string, unknown>;
        expect(error).toMatchObject({ code: -1, StatusCode: 503 });
        expect(error.message).toMatch(/no storage space left, nothing was saved/);
      }
      expect(await countMessages()).toBe(before);
      expect((await t.app.client.queryUsers({ id: 'ann' })).users[0]).not.toHaveProperty('bio');
      // Reads still work while writes cannot.
      expect((await fetch(`${t.baseURL}/health`)).status).toBe(200);
    } finally {
      await freeStorage();
    }
    expect((await post('/channels/messaging/c1/message', message)).status).toBe(201);
    expect((await post('/users', user)).status).toBe(201);
    expect(await countMessages()).toBe(before + 1);
  });
});
