import fs from 'node:fs';
import path from 'node:path';
import { Type, type Static } from 'typebox';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UnrecoverableError } from '../../src/lib/errors.js';
import { parseChannelExportRequest } from '../../src/modules/exports/channel-export.request.js';
import { exportChannelsTask } from '../../src/modules/exports/channel-export.task.js';
import { enqueueTask } from '../../src/modules/tasks/tasks.enqueue.js';
import { loadConfig } from '../../src/config.js';
import {
  taskHandlersOf,
  taskPresentersOf,
  taskRetryPoliciesOf,
} from '../../src/modules/tasks/tasks.kinds.js';
import { payloadParser } from '../../src/modules/tasks/tasks.payload.js';
import type { TaskKind } from '../../src/modules/tasks/tasks.types.js';
import { createTaskWorker, type TaskWorker } from '../../src/modules/tasks/tasks.worker.js';
import { taskKinds } from '../../src/task-kinds.js';
import { expectStreamError } from '../helpers/assertions.js';
import { testDialects } from '../helpers/databases.js';
import { waitForTask } from '../helpers/exports.js';
import { openTestContext, type TestContext } from '../helpers/test-context.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';
import { readTask } from './task-support.js';

const GreetingPayload = Type.Object({ name: Type.String({ minLength: 1 }), times: Type.Integer() });
type GreetingPayload = Static<typeof GreetingPayload>;

function greetingKind(seen: GreetingPayload[]): TaskKind<GreetingPayload> {
  return {
    kind: 'greet',
    parsePayload: payloadParser('greet', GreetingPayload),
    run: async ({ task }) => {
      seen.push(task.payload);
      return { result: { greeting: `hello ${task.payload.name}`.repeat(task.payload.times) } };
    },
    presentResult: (task) => ({ presented: true, stored: JSON.parse(task.result!) as unknown }),
  };
}

function rejectionOf(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

describe('task kinds', () => {
  it('refuses to register one kind twice', () => {
    const kind = greetingKind([]);
    expect(() => taskHandlersOf([kind, { ...kind }])).toThrow(/"greet" is registered twice/);
    expect(() => taskPresentersOf([...taskKinds, taskKinds[0]!])).toThrow(/registered twice/);
  });

  it('gives every built-in kind a distinct name, and a presenter to the two exports', () => {
    const names = taskKinds.map((kind) => kind.kind);
    expect(new Set(names).size).toBe(names.length);
    expect(names.sort()).toEqual([
      'delete-channels',
      'delete-users',
      'export-channels',
      'export-users',
      'webhook-delivery',
    ]);
    const presenting = taskKinds.filter((kind) => kind.presentResult).map((kind) => kind.kind);
    expect(presenting.sort()).toEqual(['export-channels', 'export-users']);
  });

  it('refuses, as invalid_payload naming the field, a payload no built-in kind can run', () => {
    for (const kind of taskKinds) {
      for (const payload of [null, 'text', [], { userIds: 'u1', cids: 'x', channels: {} }]) {
        const error = rejectionOf(() => kind.parsePayload(payload));
        expect(error, `${kind.kind} ${JSON.stringify(payload)}`).toBeInstanceOf(UnrecoverableError);
        expect((error as UnrecoverableError).type).toBe('invalid_payload');
        expect((error as Error).message).toMatch(new RegExp(`^the ${kind.kind} task’s payload is not valid`));
      }
    }
    const error = rejectionOf(() =>
      exportChannelsTask.parsePayload({
        ...parseChannelExportRequest({ channels: [{ type: 'messaging', id: 'a' }] }),
        version: 'v3',
      }),
    );
    expect((error as Error).message).toContain('/version');
  });

  it('accepts for an export the request as its parser returned it, once through JSON', () => {
    const request = parseChannelExportRequest({
      channels: [
        { type: 'messaging', id: 'a', messages_since: '2024-01-01T00:00:00Z' },
        { cid: 'team:b', messages_until: null },
      ],
      version: 'v2',
      export_users: true,
    });
    const stored: unknown = JSON.parse(JSON.stringify(request));
    expect(exportChannelsTask.parsePayload(stored)).toEqual(request);
  });
});

describe.each(testDialects)('a task kind run by the worker (%s)', (dialectName) => {
  let t: TestContext;
  let worker: TaskWorker | undefined;
  beforeAll(async () => {
    t = await openTestContext(dialectName);
  });
  afterEach(async () => {
    await worker?.stop({ timeoutMillis: 100 });
    worker = undefined;
  });
  afterAll(() => t.close());

  function start(seen: GreetingPayload[]) {
    worker = createTaskWorker({ context: t.context, handlers: taskHandlersOf([greetingKind(seen)]) });
    worker.start();
  }
  const settled = (id: string) =>
    waitFor(
      () => readTask(t.context.db, id),
      (task) => task.status === 'completed' || task.status === 'failed',
    );

  it('hands `run` the payload its declaration parsed', async () => {
    const seen: GreetingPayload[] = [];
    start(seen);
    const { db, clock } = t.context;
    const queued = await enqueueTask(db, clock, {
      appId: 1,
      kind: 'greet',
      payload: { name: 'ann', times: 2 },
    });
    const done = await settled(queued.id);
    expect(done.status).toBe('completed');
    expect(JSON.parse(done.result!)).toEqual({ greeting: 'hello annhello ann' });
    expect(seen).toEqual([{ name: 'ann', times: 2 }]);
  });

  it('backs a failed attempt off by its kind’s own policy, not the worker’s', async () => {
    const failing: TaskKind = {
      kind: 'flaky',
      parsePayload: (payload) => payload,
      run: async () => {
        throw new Error('not yet');
      },
    };
    worker = createTaskWorker({
      context: t.context,
      handlers: taskHandlersOf([failing]),
      retryPolicy: { baseMillis: 10, capMillis: 10 },
      retryPolicies: { flaky: { baseMillis: 600_000, capMillis: 600_000 } },
    });
    worker.start();
    const { db, clock } = t.context;
    const queued = await enqueueTask(db, clock, { appId: 1, kind: 'flaky', payload: {} });
    const backingOff = await waitFor(
      () => readTask(db, queued.id),
      (task) => task.status === 'pending',
    );
    // The backoff is computed just before the failure is written: within a second of 10 minutes.
    expect(backingOff.run_after - backingOff.updated_at).toBeGreaterThan(599_000_000);
    expect(backingOff.run_after - backingOff.updated_at).toBeLessThanOrEqual(600_000_000);
  });

  it('fails a task whose stored payload does not match at once, without running it', async () => {
    const seen: GreetingPayload[] = [];
    start(seen);
    const { db, clock } = t.context;
    const queued = await enqueueTask(db, clock, {
      appId: 1,
      kind: 'greet',
      payload: { name: 'ann', times: 'twice' },
      maxAttempts: 5,
    });
    const done = await settled(queued.id);
    expect(done).toMatchObject({ status: 'failed', attempt: 1 });
    const error = JSON.parse(done.error!) as { type: string; description: string };
    expect(error.type).toBe('invalid_payload');
    expect(error.description).toMatch(/^the greet task’s payload is not valid at \/times/);
    expect(seen).toEqual([]);
  });
});

describe('a kind’s own backoff', () => {
  it('is read from the configuration by taskRetryPoliciesOf; kinds without one use the worker’s', () => {
    const config = loadConfig({ CHATPORT_WEBHOOK_RETRY_BASE_MS: '250' });
    const policies = taskRetryPoliciesOf(taskKinds, config);
    expect(policies).toEqual({ 'webhook-delivery': { baseMillis: 250, capMillis: 3_600_000 } });
  });
});

describe.each(testDialects)('task status routes (%s)', (dialectName) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(dialectName);
    const c = t.app.client;
    await c.upsertUsers([{ id: 'ann' }]);
    for (const id of ['kept', 'gone']) {
      await c.channel('messaging', id, { created_by_id: 'ann' } as never).create();
    }
  });
  afterAll(() => t.close());

  it('answers an export on both routes, and another kind’s task only on GET /tasks/{id}', async () => {
    const c = t.app.client;
    const exported = await c.exportChannels([{ type: 'messaging', id: 'kept' }]);
    const deleted = await c.deleteChannels(['messaging:gone']);
    const exportTask = await waitForTask(c, exported.task_id);
    const deleteTask = await waitForTask(c, deleted.task_id!);
    expect(exportTask.status).toBe('completed');
    expect(deleteTask.status).toBe('completed');

    const viaExportRoute = await c.getExportChannelStatus(exported.task_id);
    expect(viaExportRoute).toMatchObject({ task_id: exported.task_id, status: 'completed' });
    // Both routes present the export's result alike: counts, and a freshly signed link.
    expect(viaExportRoute.result).toMatchObject({ version: 'v1', url: expect.stringMatching(/^http/) });
    expect(Object.keys(viaExportRoute.result!).sort()).toEqual(Object.keys(exportTask.result!).sort());

    await expectStreamError(c.getExportChannelStatus(deleted.task_id!), { status: 404, code: 16 });
    expect((await c.getTask(deleted.task_id!)).result).toEqual({
      result: { 'messaging:gone': { status: 'ok' } },
    });
  });

  it('answers another app’s export with 404 code 16 on the export route too', async () => {
    const { task_id } = await t.app.client.exportChannels([{ type: 'messaging', id: 'kept' }]);
    const other = await t.createTestApp('other');
    await expectStreamError(other.client.getExportChannelStatus(task_id), { status: 404, code: 16 });
  });
});

describe('the task queue’s room', () => {
  it('imports no feature module: features declare their kinds and the runtime registers them', () => {
    const folder = path.resolve(import.meta.dirname, '../../src/modules/tasks');
    // Infrastructure (storage) may be used; the modules whose work runs as tasks may not.
    const features = new Set([
      'apps',
      'channels',
      'downloads',
      'exports',
      'imports',
      'messages',
      'reactions',
      'user-exports',
      'users',
      'webhooks',
    ]);
    const offending: string[] = [];
    for (const file of fs.readdirSync(folder)) {
      const source = fs.readFileSync(path.join(folder, file), 'utf8');
      for (const [, target] of source.matchAll(/from '\.\.\/([^/']+)\//g)) {
        if (features.has(target!)) offending.push(`${file} imports ${target}`);
      }
    }
    expect(offending).toEqual([]);
  });
});
