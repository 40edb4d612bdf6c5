import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { enqueueTask } from '../../src/modules/tasks/tasks.enqueue.js';
import { createTaskWorker, type TaskWorker } from '../../src/modules/tasks/tasks.worker.js';
import { testDialects } from '../helpers/databases.js';
import { openTestContext, type TestContext } from '../helpers/test-context.js';
import { waitFor } from '../helpers/wait.js';
import { readTask } from './task-support.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURE = 'test/fixtures/task-worker-process.ts';

interface Fixture {
  child: ChildProcess;
  lines: string[];
  stderr: string[];
  exited: Promise<number | null>;
  waitForLine(prefix: string): Promise<string>;
}

/** Runs the fixture as its own process (through tsx, as `chatport` itself runs) on the test's database. */
function startFixture(env: Record<string, string>): Fixture {
  const child = spawn(process.execPath, ['bin/run-ts.mjs', FIXTURE], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  readline.createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  readline.createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    stderr,
    exited,
    async waitForLine(prefix) {
      const found = await waitFor(
        () => lines.find((line) => line.startsWith(prefix)) ?? child.exitCode ?? child.signalCode,
        (value) => typeof value === 'string' || value !== null,
        { timeoutMillis: 60_000, what: `"${prefix}" from the fixture` },
      );
      if (typeof found !== 'string' || !found.startsWith(prefix)) {
        throw new Error(`fixture exited (${String(found)}) before "${prefix}": ${stderr.join('\n')}`);
      }
      return found;
    },
  };
}

describe.each(testDialects)('the task queue across processes (%s)', (dialectName) => {
  let t: TestContext | undefined;
  let fixtures: Fixture[] = [];
  let worker: TaskWorker | undefined;

  afterEach(async () => {
    for (const fixture of fixtures) {
      if (fixture.child.exitCode === null && fixture.child.signalCode === null) fixture.child.kill('SIGKILL');
      await fixture.exited;
    }
    fixtures = [];
    await worker?.stop({ timeoutMillis: 100 });
    worker = undefined;
    await t?.close();
    t = undefined;
  });

  it(
    'recovers a task whose worker was killed mid-attempt: reaped, retried and completed as attempt 2',
    { timeout: 120_000 },
    async () => {
      t = await openTestContext(dialectName);
      const { context } = t;
      const queued = await enqueueTask(context.db, context.clock, {
        appId: 1,
        kind: 'crash-test',
        payload: { n: 1 },
      });
      const doomed = startFixture({
        ...t.env,
        FIXTURE_MODE: 'slow-worker',
        FIXTURE_WORKER_ID: 'doomed-worker',
        FIXTURE_LEASE_MILLIS: '1500',
      });
      fixtures.push(doomed);
      expect(await doomed.waitForLine('started')).toBe(`started ${queued.id} 1`);
      expect(await readTask(context.db, queued.id)).toMatchObject({
        status: 'running',
        attempt: 1,
        lease_owner: 'doomed-worker',
      });

      doomed.child.kill('SIGKILL');
      await doomed.exited;
      expect(doomed.child.signalCode).toBe('SIGKILL');

      const attempts: number[] = [];
      worker = createTaskWorker({
        context,
        leaseMillis: 1000,
        reapMillis: 100,
        retryPolicy: { baseMillis: 50, capMillis: 50 },
        handlers: {
          'crash-test': async ({ task }) => {
            attempts.push(task.attempt);
            return { result: { recovered_on_attempt: task.attempt } };
          },
        },
      });
      worker.start();
      const done = await waitFor(
        () => readTask(context.db, queued.id),
        (task) => task.status === 'completed' || task.status === 'failed',
        { timeoutMillis: 60_000, what: 'the killed task to be recovered' },
      );
      expect(done).toMatchObject({ status: 'completed', attempt: 2, lease_owner: worker.id, error: null });
      expect(JSON.parse(done.result!)).toEqual({ recovered_on_attempt: 2 });
      expect(attempts).toEqual([2]);
    },
  );

  it('never hands one task to two claimers in separate processes', { timeout: 120_000 }, async () => {
    t = await openTestContext(dialectName);
    const { context } = t;
    const ids: string[] = [];
    for (let i = 0; i < 150; i++) {
      ids.push(
        (await enqueueTask(context.db, context.clock, { appId: 1, kind: 'claim-test', payload: i })).id,
      );
    }
    fixtures = [1, 2, 3].map((n) =>
      startFixture({ ...t!.env, FIXTURE_MODE: 'claimer', FIXTURE_WORKER_ID: `claimer-${n}` }),
    );
    for (const fixture of fixtures) await fixture.waitForLine('ready');
    // Released together, so the claims contend for the same rows.
    for (const fixture of fixtures) fixture.child.stdin!.write('go\n');
    const claimedByEach: string[][] = [];
    for (const fixture of fixtures) {
      const line = await fixture.waitForLine('claimed ');
      claimedByEach.push(JSON.parse(line.slice('claimed '.length)) as string[]);
    }
    const claimed = claimedByEach.flat();
    expect(claimed).toHaveLength(ids.length);
    expect(new Set(claimed)).toEqual(new Set(ids));
    const rows = await context.db.selectFrom('tasks').select(['attempt', 'lease_owner']).execute();
    expect(rows.every((row) => row.attempt === 1)).toBe(true);
    for (const [index, owned] of claimedByEach.entries()) {
      const owner = `claimer-${index + 1}`;
      expect(rows.filter((row) => row.lease_owner === owner)).toHaveLength(owned.length);
    }
  });
});
