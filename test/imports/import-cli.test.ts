import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/modules/apps/apps.usecases.js';
import { testDialects } from '../helpers/databases.js';
import { openTestContext, type TestContext } from '../helpers/test-context.js';
import { snapshot, SMALL_V2_FILE } from './import-support.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `chatport ...` as its own process, on the test's database; stdin gets `input` when given. */
function chatport(env: Record<string, string>, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['bin/chatport.mjs', ...args],
      { cwd: path.resolve('.'), env: { ...process.env, ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}

describe.each(testDialects)('chatport import (%s)', (dialect) => {
  let t: TestContext;
  let apiKey: string;
  let appId: number;

  beforeAll(async () => {
    t = await openTestContext(dialect);
    const app = await createApp({ db: t.context.db, clock: t.context.clock, name: 'cli' });
    apiKey = app.api_key;
    appId = app.id;
  });
  afterAll(() => t.close());

  it('imports a file into the app named by its key and prints what it imported', async () => {
    const run = await chatport(t.env, ['import', SMALL_V2_FILE, '--api-key', apiKey, '--batch-size', '4']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^chatport: imported 3 users, 2 channels, 4 members, 2 channel mutes, 6 messages, 4 reactions in [\d.]+s \(\d+ messages\/s\)\n$/,
    );
    const stored = await snapshot(t.context.db, appId);
    expect(stored.messages.find((m) => m.id === 'm1')).toMatchObject({ reply_count: 2 });
  });

  it('parses on a thread of its own from the compiled bundle, and names a bad line from there', async () => {
    const other = await createApp({ db: t.context.db, clock: t.context.clock, name: 'cli-thread' });
    const args = ['import', SMALL_V2_FILE, '--api-key', other.api_key, '--batch-size', '4'];
    const run = await chatport(t.env, [...args, '--parser', 'thread']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(
      /^chatport: imported 3 users, 2 channels, 4 members, 2 channel mutes, 6 messages, 4 reactions in /,
    );
    // The same rows as the import of the first test, parsed on the importer's own thread.
    const rows = async (id: number) =>
      Object.values(await snapshot(t.context.db, id)).map((table) =>
        (table as Array<Record<string, unknown>>).map((row) => ({ ...row, app_id: 0, change_mark: 0 })),
      );
    expect(await rows(other.id)).toEqual(await rows(appId));
    const lines = fs.readFileSync(SMALL_V2_FILE, 'utf8') + 'not json\n';
    const bad = await chatport(
      t.env,
      ['import', '-', '--api-key', other.api_key, '--parser', 'thread'],
      lines,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^chatport: import failed: line 22: is not valid JSON/);
    const wrong = await chatport(t.env, [...args, '--parser', 'elsewhere']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/must be one of auto, thread, inline/);
  });

  it('reads standard input with -, and exits 1 naming the bad line', async () => {
    const lines =
      fs.readFileSync(SMALL_V2_FILE, 'utf8') + '{"type":"member","data":{"channel_type":"messaging"}}\n';
    const run = await chatport(t.env, ['import', '-', '--api-key', apiKey], lines);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'chatport: import failed: line 22: data.channel_id is required (data.channel_type and data.channel_id, ' +
        'or data.cid) (nothing was imported)\n',
    );
  });

  it('refuses an unknown api key and a missing file', async () => {
    const unknownKey = await chatport(t.env, ['import', SMALL_V2_FILE, '--api-key', 'nobody']);
    expect(unknownKey).toMatchObject({ code: 1, stderr: 'chatport: no app has the api key nobody\n' });
    const missing = await chatport(t.env, ['import', 'no/such/file.jsonl', '--api-key', apiKey]);
    expect(missing).toMatchObject({ code: 1, stderr: 'chatport: no/such/file.jsonl does not exist\n' });
  });
});
