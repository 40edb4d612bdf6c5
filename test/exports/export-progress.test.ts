import { sql, type RawBuilder } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskHandlersOf } from '../../src/modules/tasks/tasks.kinds.js';
import { createTaskWorker } from '../../src/modules/tasks/tasks.worker.js';
import type { StorageDriver } from '../../src/modules/storage/storage.types.js';
import { taskKinds } from '../../src/task-kinds.js';
import { testDialects } from '../helpers/databases.js';
import { exportAndDownload, waitForTask } from '../helpers/exports.js';
import { rawRequest, signToken } from '../helpers/raw-client.js';
import { insertMessages, insertReactions } from '../helpers/seed.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { sleep, waitFor } from '../helpers/wait.js';

const MESSAGES = 12_000;
const T0 = 1_690_000_000_000_000;

interface Progress {
  messages_done: number;
  messages_total: number;
  bytes_written: number;
  percent: number;
}

/** An estimate is good when it is within a quarter of the real size. */
function expectClose(estimate: number, actual: number): void {
  expect(estimate).toBeGreaterThan(actual * 0.75);
  expect(estimate).toBeLessThan(actual * 1.25);
}

describe.each(testDialects)('export progress and dry runs (%s)', (dialect) => {
  let t: TestServer;
  let appId: number;
  let token: string;
  const call = (method: string, path: string, body?: unknown) =>
    rawRequest(t.baseURL, method, path, { apiKey: t.app.apiKey, token, body });

  const count = async (query: RawBuilder<unknown>) =>
    Number(((await query.execute(t.server.context.db)).rows[0] as { n: number | string }).n);
  const tasksAndFiles = async () => {
    const keys: string[] = [];
    for await (const object of t.server.context.storage.listObjects('exports/')) keys.push(object.key);
    return {
      tasks: await count(sql`select count(*) as n from tasks`),
      files: keys.length,
      temporaries: (await t.server.context.storage.listTemporary()).length,
    };
  };

  beforeAll(async () => {
    // No worker in the server: each test starts the one it needs. Progress after every page.
    t = await startTestServer(dialect, {
      env: { CHATPORT_WORKER: 'false', CHATPORT_EXPORT_CHECKPOINT_MS: '0' },
    });
    token = await signToken(t.app.apiSecret, { server: true });
    const { db } = t.server.context;
    appId = t.app.id;
    await t.app.client.upsertUsers([{ id: 'ann', name: 'Ann' }, { id: 'bob' }, { id: 'cat' }]);
    const create = (id: string, members: string[], extra = {}) =>
      t.app.client.channel('messaging', id, { created_by_id: 'ann', members, ...extra } as never).create();
    await create('big', ['ann', 'bob']);
    await create('small', ['ann', 'bob', 'cat'], { topic: 'a custom field' });
    await create('gone', ['ann']);
    await t.app.client.channel('messaging', 'gone').delete();
    const ids = await insertMessages(db, appId, 'messaging:big', MESSAGES, {
      userId: 'ann',
      idPrefix: 'b',
      startMicros: T0,
    });
    await insertReactions(
      db,
      appId,
      ids.filter((_id, i) => i % 5 === 0),
      {
        userId: 'bob',
        type: 'like',
        startMicros: T0 + 1,
      },
    );
    const small = t.app.client.channel('messaging', 'small');
    for (let i = 0; i < 30; i++) {
      const { message } = await small.sendMessage({ text: `hello ${i} 🎉`, user_id: i % 2 ? 'bob' : 'cat' });
      if (i % 3 === 0) await small.sendReaction(message.id, { type: 'wow', user_id: 'ann' });
    }
    await small.truncate();
    await small.sendMessage({ text: 'after the truncation', user_id: 'ann' });
  }, 180_000);
  afterAll(() => t?.close());

  describe('dry_run on POST /export_channels', () => {
    it.each(['v1', 'v2'] as const)(
      'counts each channel as the database does and estimates the file within a quarter (%s), creating nothing',
      async (version) => {
        const before = await tasksAndFiles();
        const channels = [
          { type: 'messaging', id: 'big' },
          { cid: 'messaging:small' },
          { cid: 'messaging:gone' },
        ];
        const dry = (await t.app.client.exportChannels(
          channels as never,
          {
            version,
            export_users: true,
            dry_run: true,
          } as never,
        )) as unknown as {
          dry_run: boolean;
          channels: Array<Record<string, number | string>>;
          skipped_channels: unknown[];
          totals: Record<string, number>;
          estimated_size: number;
          task_id?: string;
        };
        expect(dry.dry_run).toBe(true);
        expect(dry.task_id).toBeUndefined();
        expect(await tasksAndFiles()).toEqual(before);
        expect(dry.skipped_channels).toEqual([{ cid: 'messaging:gone', reason: 'soft_deleted' }]);

        // Ground truth: the database's own counts (messages after the truncation only, as the export).
        const truncatedAt = (
          await t.server.context.db
            .selectFrom('channels')
            .select('truncated_at')
            .where('cid', '=', 'messaging:small')
            .executeTakeFirstOrThrow()
        ).truncated_at!;
        for (const [cid, after] of [
          ['messaging:big', Number.MIN_SAFE_INTEGER],
          ['messaging:small', truncatedAt],
        ] as const) {
          const estimate = dry.channels.find((c) => c.cid === cid)!;
          expect(estimate.messages).toBe(
            await count(
              sql`select count(*) as n from messages where app_id = ${appId} and cid = ${cid} and created_at > ${after}`,
            ),
          );
          expect(estimate.members).toBe(
            await count(sql`select count(*) as n from members where app_id = ${appId} and cid = ${cid}`),
          );
          expect(estimate.reactions).toBe(
            await count(
              sql`select count(*) as n from reactions r join messages m on m.app_id = r.app_id and m.id = r.message_id
                where m.app_id = ${appId} and m.cid = ${cid} and m.created_at > ${after}`,
            ),
          );
        }
        expect(dry.channels.find((c) => c.cid === 'messaging:big')!.messages).toBe(MESSAGES);
        expect(dry.channels.find((c) => c.cid === 'messaging:small')!.messages).toBe(1);

        const { task, text } = await (async () => {
          const worker = createTaskWorker({ context: t.server.context, handlers: taskHandlersOf(taskKinds) });
          worker.start();
          try {
            return await exportAndDownload(t.app.client, channels, { version, export_users: true });
          } finally {
            await worker.stop();
          }
        })();
        for (const key of ['channels', 'messages', 'members', 'channel_mutes', 'reactions', 'users'])
          expect(dry.totals[key], key).toBe(task.result![key]);
        expectClose(dry.estimated_size, Buffer.byteLength(text));
      },
      120_000,
    );

    it('answers a bad request exactly as the real request, dry or not', async () => {
      const bodies = [
        { channels: [] },
        { channels: [{ cid: 'messaging:nowhere' }] },
        { channels: [{ cid: 'messaging:big', messages_since: 'yesterday' }] },
        { channels: [{ cid: 'messaging:big' }], version: 'v3' },
      ];
      for (const body of bodies) {
        const real = await call('POST', '/export_channels', body);
        const dry = await call('POST', '/export_channels', { ...body, dry_run: true });
        expect(real.status).toBe(400);
        const { duration: _a, ...realBody } = real.body;
        const { duration: _b, ...dryBody } = dry.body;
        expect(dry.status).toBe(real.status);
        expect(dryBody).toEqual(realBody);
      }
      const wrong = await call('POST', '/export_channels', {
        channels: [{ cid: 'messaging:big' }],
        dry_run: 'yes',
      });
      expect(wrong.status).toBe(400);
      expect(wrong.body.code).toBe(4);
      expect(JSON.stringify(wrong.body)).toContain('dry_run');
      expect(await count(sql`select count(*) as n from tasks where status = 'waiting'`)).toBe(0);
    });
  });

  describe('dry_run on POST /export/users', () => {
    it('counts each user as the database does and estimates the file within a quarter, creating nothing', async () => {
      const before = await tasksAndFiles();
      const dry = (await call('POST', '/export/users', { user_ids: ['ann', 'bob', 'cat'], dry_run: true }))
        .body as {
        users: Array<Record<string, number | string>>;
        totals: Record<string, number>;
        estimated_size: number;
      };
      expect(await tasksAndFiles()).toEqual(before);
      for (const user of dry.users) {
        const id = user.user_id as string;
        for (const table of ['messages', 'reactions', 'members'] as const) {
          expect(user[table], `${id} ${table}`).toBe(
            await count(
              sql`select count(*) as n from ${sql.table(table)} where app_id = ${appId} and user_id = ${id}`,
            ),
          );
        }
      }
      expect(dry.totals.messages).toBe(MESSAGES + 31);

      const missing = await call('POST', '/export/users', { user_ids: ['ann', 'nobody'], dry_run: true });
      const real = await call('POST', '/export/users', { user_ids: ['ann', 'nobody'] });
      expect(missing.status).toBe(real.status);
      expect({ ...missing.body, duration: 0 }).toEqual({ ...real.body, duration: 0 });

      const worker = createTaskWorker({ context: t.server.context, handlers: taskHandlersOf(taskKinds) });
      worker.start();
      try {
        const { task_id } = await t.app.client.exportUsers({ user_ids: ['ann', 'bob', 'cat'] });
        const task = await waitForTask(t.app.client, task_id);
        expect(task.status).toBe('completed');
        for (const key of ['messages', 'reactions', 'members', 'channel_mutes'])
          expect(dry.totals[key], key).toBe(task.result![key]);
        expectClose(dry.estimated_size, task.result!.size as number);
      } finally {
        await worker.stop();
      }
    }, 120_000);
  });

  it('documents dry_run and progress in the OpenAPI document', async () => {
    const document = (await (await fetch(`${t.baseURL}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { requestBody?: unknown; responses?: unknown }>>;
    };
    for (const path of ['/export_channels', '/export/users', '/api/v2/chat/export_channels']) {
      const post = document.paths[path]!.post!;
      expect(JSON.stringify(post.requestBody), path).toContain('dry_run');
      expect(JSON.stringify(post.responses), path).toContain('estimated_size');
    }
    for (const path of ['/tasks/{id}', '/export_channels/{id}'])
      expect(JSON.stringify(document.paths[path]!.get!.responses), path).toContain('messages_done');
  });

  /**
   * A worker whose storage holds the export's `held`-th savepoint until `release`, and counts the bytes
   * handed to the write's stream meanwhile (`written`).
   */
  function workerHoldingSavepoint(held: number) {
    let release!: () => void;
    const holding = new Promise<void>((resolve) => {
      release = resolve;
    });
    let savepoints = 0;
    const state = { written: 0, writtenWhenHeld: -1 };
    const storage: StorageDriver = t.server.context.storage;
    const holdingStorage: StorageDriver = {
      ...storage,
      async openWrite(key) {
        const write = await storage.openWrite(key);
        const { stream } = write;
        const passOn = stream.write.bind(stream) as (chunk: Buffer, callback?: () => void) => boolean;
        stream.write = ((chunk: Buffer, callback?: () => void) => {
          state.written += chunk.length;
          return passOn(chunk, callback);
        }) as typeof stream.write;
        return {
          ...write,
          stream,
          commit: () => write.commit(),
          abort: () => write.abort(),
          detach: () => write.detach(),
          async savepoint() {
            if (++savepoints === held) {
              state.writtenWhenHeld = state.written;
              await holding;
            }
            return write.savepoint();
          },
        };
      },
    };
    const worker = createTaskWorker({
      context: { ...t.server.context, storage: holdingStorage },
      handlers: taskHandlersOf(taskKinds),
      leaseMillis: 60_000,
    });
    worker.start();
    return { worker, release, state };
  }

  it('goes on writing while the storage makes a checkpoint durable', async () => {
    // The first checkpoint comes after the first of the channel's pages; the storage holds it.
    const { worker, release, state } = workerHoldingSavepoint(1);
    try {
      const { task_id } = await t.app.client.exportChannels([{ cid: 'messaging:big' }], {
        version: 'v1',
      } as never);
      await waitFor(
        () => ({ ...state }),
        ({ written, writtenWhenHeld }) => writtenWhenHeld >= 0 && written > writtenWhenHeld,
        { what: 'pages written after the held savepoint' },
      );
      release();
      const done = (await waitForTask(t.app.client, task_id)) as unknown as {
        status: string;
        result: { size: number; messages: number };
      };
      expect(done.status).toBe('completed');
      expect(done.result.messages).toBe(MESSAGES);
      expect(done.result.size).toBe(state.written);
    } finally {
      release();
      await worker.stop();
    }
  }, 120_000);

  it('serves a running export’s progress, matching the database at its last checkpoint', async () => {
    // The storage holds the export still at its second checkpoint, until the test lets it go on.
    const { worker, release } = workerHoldingSavepoint(2);
    try {
      const { task_id } = await t.app.client.exportChannels([{ cid: 'messaging:big' }], {
        version: 'v1',
      } as never);
      const running = (await waitFor(
        () =>
          t.app.client.getExportChannelStatus(task_id) as unknown as Promise<{
            status: string;
            progress?: Progress;
          }>,
        (status) => status.progress !== undefined,
        { what: 'progress on the status' },
      )) as { status: string; progress: Progress };
      expect(running.status).toBe('running');
      const viaTasks = (await t.app.client.getTask(task_id)) as unknown as { progress: Progress };
      expect(viaTasks.progress).toEqual(running.progress);
      const { progress } = running;
      expect(progress.messages_total).toBe(MESSAGES);
      expect(progress.messages_done).toBeGreaterThan(0);
      expect(progress.messages_done).toBeLessThan(MESSAGES);
      expect(progress.percent).toBe(Math.floor((100 * progress.messages_done) / MESSAGES));
      // The checkpoint saved with it names the last message written: the database has exactly
      // messages_done messages up to it.
      const row = await t.server.context.db
        .selectFrom('tasks')
        .select(['checkpoint'])
        .where('id', '=', task_id)
        .executeTakeFirstOrThrow();
      const checkpoint = JSON.parse(row.checkpoint!) as {
        position: { after: { createdAt: number; id: string } };
        bytes: number;
      };
      const { createdAt, id } = checkpoint.position.after;
      expect(
        await count(
          sql`select count(*) as n from messages where app_id = ${appId} and cid = 'messaging:big'
            and (created_at < ${createdAt} or (created_at = ${createdAt} and id <= ${id}))`,
        ),
      ).toBe(progress.messages_done);
      expect(checkpoint.bytes).toBe(progress.bytes_written);

      release();
      const done = (await waitForTask(t.app.client, task_id)) as unknown as {
        status: string;
        progress?: Progress;
        result: { size: number };
      };
      expect(done.status).toBe('completed');
      expect(done.progress).toBeUndefined();
      expect(done.result.size).toBeGreaterThan(progress.bytes_written);
    } finally {
      release();
      await worker.stop();
    }
  }, 120_000);

  it('lets a failed user export go of its file only once its last progress record is written', async () => {
    // The storage fails the export's first write after a progress record has begun; the record is
    // held until the file is let go of (or 300 ms pass), so the order of the two tells which waited.
    const events: string[] = [];
    let letGo!: () => void;
    const fileLetGo = new Promise<void>((resolve) => {
      letGo = resolve;
    });
    const storage: StorageDriver = t.server.context.storage;
    const failingStorage: StorageDriver = {
      ...storage,
      async openWrite(key) {
        const write = await storage.openWrite(key);
        const { stream } = write;
        const passOn = stream.write.bind(stream) as (chunk: Buffer, callback?: () => void) => boolean;
        stream.write = ((chunk: Buffer, callback?: () => void) => {
          if (events.includes('record begun')) {
            stream.destroy(new Error('the disk is gone'));
            return false;
          }
          return passOn(chunk, callback);
        }) as typeof stream.write;
        return {
          ...write,
          stream,
          async abort() {
            events.push('file let go');
            letGo();
            return write.abort();
          },
        };
      },
    };
    const handlers = taskHandlersOf(taskKinds);
    const run = handlers['export-users']!;
    handlers['export-users'] = (args) =>
      run({
        ...args,
        async saveProgress(update) {
          events.push('record begun');
          await Promise.race([fileLetGo, sleep(300)]);
          await args.saveProgress(update);
          events.push('record written');
        },
      });
    const worker = createTaskWorker({
      context: { ...t.server.context, storage: failingStorage },
      handlers,
      leaseMillis: 60_000,
    });
    worker.start();
    try {
      const started = await call('POST', '/export/users', { user_ids: ['ann'] });
      expect(started.status).toBe(201);
      await waitFor(
        () => [...events],
        (seen) => seen.includes('file let go'),
        { what: 'the failed attempt letting go of its file' },
      );
      expect(events).toEqual(['record begun', 'record written', 'file let go']);
    } finally {
      await worker.stop();
    }
  }, 120_000);
});
