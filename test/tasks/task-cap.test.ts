import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StreamChat } from 'stream-chat';
import { findAppByKey } from '../../src/modules/apps/apps.repository.js';
import { startTaskWorker } from '../../src/runtime.js';
import { expectStreamError } from '../helpers/assertions.js';
import { testDialects } from '../helpers/databases.js';
import { startTestServer, type TestApp, type TestServer } from '../helpers/test-server.js';

const CAP = 3;

/** The SDK's rejection, with the HTTP status, Stream code and headers it carries. */
async function refusal(call: Promise<unknown>) {
  try {
    await call;
  } catch (error) {
    const { response } = error as { response?: { status: number; data: { code: number; message: string } } };
    const headers = (error as { response?: { headers: Record<string, string> } }).response?.headers ?? {};
    return { status: response?.status, code: response?.data.code, message: response?.data.message, headers };
  }
  throw new Error('expected the call to be refused');
}

describe.each(testDialects)('the per-app cap on queued and running tasks (%s)', (dialect) => {
  let t: TestServer;
  let client: StreamChat;

  async function seed(app: TestApp) {
    await app.client.upsertUsers(['ann', 'ben', 'cat'].map((id) => ({ id })));
    for (const id of ['a', 'b', 'c']) {
      await app.client.channel('messaging', id, { created_by_id: 'ann' } as never).create();
    }
  }

  async function activeTasksOf(app: TestApp): Promise<number> {
    const row = await findAppByKey(t.server.context.db, app.apiKey);
    const tasks = await t.server.context.db
      .selectFrom('tasks')
      .select('status')
      .where('app_id', '=', row!.id)
      .where('status', 'in', ['waiting', 'pending', 'running'])
      .execute();
    return tasks.length;
  }

  /** Runs every queued task to its end with a worker of its own, so the cap's places come free. */
  async function drain() {
    const worker = startTaskWorker(t.server.context);
    try {
      const { db } = t.server.context;
      const active = () =>
        db
          .selectFrom('tasks')
          .select('id')
          .where('status', 'in', ['waiting', 'pending', 'running'])
          .execute();
      await expect.poll(async () => (await active()).length, { timeout: 60_000 }).toBe(0);
    } finally {
      await worker.stop();
    }
  }

  beforeAll(async () => {
    // No worker in the server: queued tasks stay queued until a test drains them.
    t = await startTestServer(dialect, {
      env: { CHATPORT_WORKER: 'false', CHATPORT_MAX_TASKS_PER_APP: String(CAP) },
    });
    client = t.app.client;
    await seed(t.app);
  });
  beforeEach(() => drain());
  afterAll(() => t.close());

  it('refuses a channel export past the cap with 429 code 9 and a Retry-After, queueing nothing', async () => {
    for (let i = 0; i < CAP; i++) await client.exportChannels([{ type: 'messaging', id: 'a' }]);
    const refused = await refusal(client.exportChannels([{ type: 'messaging', id: 'a' }]));
    expect(refused).toMatchObject({ status: 429, code: 9 });
    expect(refused.message).toContain(`already has ${CAP} tasks queued or running`);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(await activeTasksOf(t.app)).toBe(CAP);
  });

  it('counts every kind against one cap: user exports and deletes of many are refused alike', async () => {
    await client.exportUsers({ user_ids: ['ann'] });
    await client.deleteUsers(['cat'], { user: 'soft' });
    await client.exportChannels([{ type: 'messaging', id: 'b' }]);
    const calls = [
      () => client.exportUsers({ user_ids: ['ben'] }),
      () => client.deleteUsers(['ben'], { user: 'hard' }),
      () => client.deleteChannels(['messaging:c'], { hard_delete: true }),
      () => client.exportChannels([{ type: 'messaging', id: 'c' }]),
    ];
    for (const call of calls) {
      const refused = await refusal(call());
      expect(refused).toMatchObject({ status: 429, code: 9 });
      expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    }
    expect(await activeTasksOf(t.app)).toBe(CAP);
    // The refused deletes changed nothing once the queue ran.
    await drain();
    expect((await client.queryUsers({ id: 'ben' })).users[0]?.deleted_at).toBeUndefined();
    expect(await client.queryChannels({ cid: 'messaging:c' })).toHaveLength(1);
  });

  it('lets the app queue again once its tasks have finished', async () => {
    for (let i = 0; i < CAP; i++) await client.deleteChannels(['messaging:gone']);
    await expectStreamError(client.deleteChannels(['messaging:gone']), { status: 429, code: 9 });
    await drain();
    const { task_id } = await client.deleteChannels(['messaging:gone']);
    expect(await activeTasksOf(t.app)).toBe(1);
    expect((await client.getTask(task_id!)).status).toBe('waiting');
  });

  it('caps each app on its own: one app at its cap does not stop another', async () => {
    for (let i = 0; i < CAP; i++) await client.exportChannels([{ type: 'messaging', id: 'a' }]);
    await expectStreamError(client.exportChannels([{ type: 'messaging', id: 'a' }]), {
      status: 429,
      code: 9,
    });
    const other = await t.createTestApp('other');
    await seed(other);
    const { task_id } = await other.client.exportChannels([{ type: 'messaging', id: 'a' }]);
    expect(task_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await activeTasksOf(other)).toBe(1);
  });

  it('never lets concurrent requests queue past the cap', async () => {
    await client.exportChannels([{ type: 'messaging', id: 'a' }]);
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (i % 2
          ? client.exportChannels([{ type: 'messaging', id: 'b' }])
          : client.exportUsers({ user_ids: ['ann'] })
        ).then(
          () => 'queued',
          async (error: unknown) => {
            const refused = await refusal(Promise.reject(error));
            return `${refused.status} ${refused.code}`;
          },
        ),
      ),
    );
    expect(outcomes.filter((outcome) => outcome === 'queued')).toHaveLength(CAP - 1);
    expect(outcomes.filter((outcome) => outcome === '429 9')).toHaveLength(12 - (CAP - 1));
    expect(await activeTasksOf(t.app)).toBe(CAP);
  });
});
