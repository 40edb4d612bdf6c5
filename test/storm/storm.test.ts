import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepExpiredFiles } from '../../src/modules/retention/retention.sweeper.js';
import { postgresUrl } from '../helpers/databases.js';
import { parseV2, waitForTask, type TaskBody, type V1Record } from '../helpers/exports.js';
import { startS3TestServer, type S3TestServer } from '../helpers/s3-server.js';
import { insertMessages } from '../helpers/seed.js';
import { waitFor } from '../helpers/wait.js';
import { startStorm, type Storm } from './storm.harness.js';

const TASKS = 200;
const CHANNELS = 10;
/** Chaos stops after this long even if tasks are left; the test then waits for them without it. */
const RAMPAGE_MILLIS = 25_000;

/** Channel i holds 5 + 7i messages, so every export's counts say which channel it read. */
const messagesIn = (i: number) => 5 + 7 * i;

describe.skipIf(!postgresUrl).each(['local', 's3'] as const)(
  'two API processes and three workers on PostgreSQL, workers SIGKILLed at random (%s storage)',
  (storage) => {
    let s3: S3TestServer | undefined;
    let storm: Storm;

    beforeAll(async () => {
      if (storage === 's3') s3 = await startS3TestServer();
      storm = await startStorm({
        storageEnv: s3 ? s3.env('storm') : {},
        apis: 2,
        workers: 3,
        leaseMillis: 2000,
      });
      const client = storm.apis[0]!.client;
      await client.upsertUsers([{ id: 'ann' }, { id: 'ben' }]);
      for (let i = 0; i < CHANNELS; i++) {
        await client
          .channel('messaging', `storm-${i}`, { created_by_id: 'ann', members: ['ann', 'ben'] } as never)
          .create();
        await insertMessages(storm.context.db, storm.appId, `messaging:storm-${i}`, messagesIn(i), {
          userId: 'ann',
          idPrefix: `s${i}`,
          startMicros: 1_700_000_000_000_000,
        });
      }
    }, 120_000);
    afterAll(async () => {
      await storm?.close();
      await s3?.close();
    });

    it(
      `completes ${TASKS} exports, each with exactly one object matching the database, none left over`,
      {
        timeout: 240_000,
      },
      async () => {
        const { context, apis } = storm;
        const submitted: Array<{ id: string; channel: number; version: 'v1' | 'v2' }> = [];
        for (let n = 0; n < TASKS; n++) {
          const channel = n % CHANNELS;
          const version = n % 3 === 0 ? 'v1' : 'v2';
          // Alternately to each API process.
          const { task_id } = await apis[n % apis.length]!.client.exportChannels(
            [{ type: 'messaging', id: `storm-${channel}` }],
            { version },
          );
          submitted.push({ id: task_id, channel, version });
        }
        const finished = async () => {
          const row = await context.db
            .selectFrom('tasks')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('status', 'in', ['completed', 'failed'])
            .executeTakeFirstOrThrow();
          return Number(row.n) >= TASKS;
        };
        const { kills } = await storm.rampage({ untilMillis: Date.now() + RAMPAGE_MILLIS, done: finished });
        expect(kills).toBeGreaterThan(0);
        await waitFor(finished, (done) => done, { timeoutMillis: 180_000, what: 'every task to finish' });

        const rows = await context.db.selectFrom('tasks').selectAll().execute();
        expect(rows.filter((row) => row.status !== 'completed').map((row) => [row.id, row.error])).toEqual(
          [],
        );

        await sweepExpiredFiles(context);
        const stored = new Map<string, string[]>();
        for await (const object of context.storage.listObjects('exports/')) {
          const taskId = object.key.split('/')[2]!;
          stored.set(taskId, [...(stored.get(taskId) ?? []), object.key]);
        }
        // Exactly one object per task, the one its row names; nothing else, not even a temporary.
        expect(stored.size).toBe(TASKS);
        for (const row of rows) expect(stored.get(row.id)).toEqual([row.file_key]);
        expect(await context.storage.listTemporary()).toEqual([]);

        for (const [n, task] of submitted.entries()) {
          // A status read from either API process, and its link, work.
          const status = (await apis[(n + 1) % apis.length]!.client.getTask(task.id)) as unknown as TaskBody;
          const messages = messagesIn(task.channel);
          expect(status.result).toMatchObject({ messages, members: 2, channels: 1 });
          const response = await fetch(status.result!.url!);
          expect(response.status).toBe(200);
          const text = await response.text();
          expect(Buffer.byteLength(text)).toBe(status.result!.size);
          const count =
            task.version === 'v1'
              ? (JSON.parse(text) as V1Record[])[0]!.messages.length
              : parseV2(text).filter((line) => line.type === 'message').length;
          expect(count).toBe(messages);
        }
      },
    );

    it(
      'a worker sent SIGTERM stops claiming, finishes or hands back its task, and exits 0',
      {
        timeout: 120_000,
      },
      async () => {
        const { context, apis } = storm;
        for (const worker of storm.workers) await worker.child.stop(15_000);
        await insertMessages(context.db, storm.appId, 'messaging:storm-0', 60_000, {
          userId: 'ann',
          idPrefix: 'big',
          startMicros: 1_710_000_000_000_000,
        });
        const worker = await storm.startWorker();
        const { task_id: running } = await apis[0]!.client.exportChannels([{ cid: 'messaging:storm-0' }], {
          version: 'v1',
        });
        await waitFor(
          () =>
            context.db
              .selectFrom('tasks')
              .select(['status', 'lease_owner'])
              .where('id', '=', running)
              .executeTakeFirstOrThrow(),
          (row) => row.status === 'running' && row.lease_owner === worker.id,
          { timeoutMillis: 30_000, what: 'the worker to start the export' },
        );
        const exited = new Promise<number | null>((resolve) => worker.child.process.once('exit', resolve));
        worker.child.process.kill('SIGTERM');
        const { task_id: later } = await apis[1]!.client.exportChannels([{ cid: 'messaging:storm-1' }]);
        // The shutdown grace (8 s) and the abort's (1.5 s), with room for a loaded machine.
        const code = await Promise.race([
          exited,
          new Promise((resolve) => setTimeout(() => resolve('hung'), 30_000)),
        ]);
        expect(code).toBe(0);

        const after = await context.db
          .selectFrom('tasks')
          .selectAll()
          .where('id', 'in', [running, later])
          .execute();
        const byId = new Map(after.map((row) => [row.id, row]));
        // Finished, or handed back for another worker; nothing left running under the stopped worker.
        expect(['completed', 'pending']).toContain(byId.get(running)!.status);
        expect(byId.get(later)).toMatchObject({ status: 'waiting', lease_owner: null });

        const next = await storm.startWorker();
        storm.workers[0] = next;
        for (const id of [running, later]) {
          expect((await waitForTask(apis[0]!.client, id, 90_000)).status).toBe('completed');
        }
      },
    );
  },
);
