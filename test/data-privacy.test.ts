import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureStartupApp } from '../src/runtime.js';
import { testDialects } from './helpers/databases.js';
import { exportAndDownload } from './helpers/exports.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** Every directory and file under `root`, root included, with its permission bits. */
function modesUnder(root: string): Array<{ path: string; kind: 'directory' | 'file'; mode: number }> {
  const found: Array<{ path: string; kind: 'directory' | 'file'; mode: number }> = [];
  const visit = (target: string) => {
    const stats = fs.lstatSync(target);
    const relative = path.relative(root, target) || '.';
    if (stats.isDirectory()) {
      found.push({ path: relative, kind: 'directory', mode: stats.mode & 0o777 });
      for (const entry of fs.readdirSync(target)) visit(path.join(target, entry));
    } else if (stats.isFile()) {
      found.push({ path: relative, kind: 'file', mode: stats.mode & 0o777 });
    }
  };
  visit(root);
  return found;
}

/** The entries readable or writable by anyone but the owner: directories must be 0700, files 0600. */
function notPrivate(root: string) {
  return modesUnder(root)
    .filter((entry) => entry.mode !== (entry.kind === 'directory' ? 0o700 : 0o600))
    .map((entry) => `${entry.path} ${entry.mode.toString(8)}`);
}

describe.each(testDialects)('the data directory is private to the server’s user (%s)', (dialect) => {
  let scratch: string;
  let t: TestServer | undefined;
  let olderProcess: SqliteDatabase.Database | undefined;
  let umask: number;

  beforeAll(() => {
    // The usual umask, under which files are created readable by everyone unless asked otherwise.
    umask = process.umask(0o022);
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'chatport-privacy-'));
  });
  afterEach(async () => {
    olderProcess?.close();
    olderProcess = undefined;
    await t?.close();
    t = undefined;
  });
  afterAll(() => {
    process.umask(umask);
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  async function serveAndExport(dataDir: string) {
    t = await startTestServer(dialect, { env: { CHATPORT_DATA_DIR: dataDir } });
    await ensureStartupApp(t.server.context);
    const c = t.app.client;
    await c.upsertUsers([{ id: 'ann' }]);
    const channel = c.channel('messaging', 'private', { created_by_id: 'ann' } as never);
    await channel.create();
    await channel.sendMessage({ text: 'for Ann’s eyes only', user_id: 'ann' });
    await exportAndDownload(c, [{ type: 'messaging', id: 'private' }], { version: 'v2' });
    const { task_id } = await c.exportUsers({ user_ids: ['ann'] });
    await expect.poll(async () => (await c.getTask(task_id)).status, { timeout: 60_000 }).toBe('completed');
  }

  it('creates the directory, the database with its WAL, the app’s credentials and export files private', async () => {
    const dataDir = path.join(scratch, 'fresh', 'data');
    await serveAndExport(dataDir);
    const names = modesUnder(dataDir).map((entry) => entry.path);
    expect(names).toContain('dev-app.json');
    expect(names.some((name) => name.startsWith(path.join('files', 'exports')))).toBe(true);
    if (dialect === 'sqlite') {
      // While the server runs, SQLite keeps its write-ahead log and shared memory beside the file.
      expect(names).toEqual(
        expect.arrayContaining(['chatport.sqlite', 'chatport.sqlite-wal', 'chatport.sqlite-shm']),
      );
    }
    expect(notPrivate(dataDir)).toEqual([]);
  });

  it('narrows what an older version left readable by others, before serving anything', async () => {
    const dataDir = path.join(scratch, 'older');
    const exportFolder = path.join(dataDir, 'files', 'exports', '1', 'old-task', '1');
    fs.mkdirSync(exportFolder, { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(exportFolder, 'chatport-channels-old-task.jsonl'), '{}\n', { mode: 0o644 });
    fs.writeFileSync(path.join(dataDir, 'dev-app.json'), '{"apiKey":"oldkey","apiSecret":"oldsecret"}\n', {
      mode: 0o644,
    });
    if (dialect === 'sqlite') {
      // A process of the older version still has the database open: its WAL and shared memory exist.
      olderProcess = new SqliteDatabase(path.join(dataDir, 'chatport.sqlite'));
      olderProcess.pragma('journal_mode = WAL');
      olderProcess.exec(
        'create table older_version (id integer primary key); insert into older_version default values',
      );
    }
    const before = notPrivate(dataDir);
    expect(before).toEqual(expect.arrayContaining(['. 755', 'dev-app.json 644']));
    if (dialect === 'sqlite') {
      expect(before).toEqual(
        expect.arrayContaining(['chatport.sqlite 644', 'chatport.sqlite-wal 644', 'chatport.sqlite-shm 644']),
      );
    }

    await serveAndExport(dataDir);
    expect(notPrivate(dataDir)).toEqual([]);
    // Narrowed, not replaced: the older version's credentials and data are still there.
    expect(JSON.parse(fs.readFileSync(path.join(dataDir, 'dev-app.json'), 'utf8'))).toMatchObject({
      apiKey: 'oldkey',
    });
    if (olderProcess)
      expect(olderProcess.prepare('select count(*) as n from older_version').get()).toEqual({ n: 1 });
  });

  it('changes nothing chatport did not create in the folder, however open', async () => {
    const dataDir = path.join(scratch, 'shared');
    fs.mkdirSync(path.join(dataDir, 'another-program'), { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(dataDir, 'another-program', 'state'), 'x', { mode: 0o644 });
    fs.writeFileSync(path.join(dataDir, 'notes.txt'), 'x', { mode: 0o644 });
    await serveAndExport(dataDir);
    expect(notPrivate(dataDir)).toEqual([
      'another-program 755',
      'another-program/state 644',
      'notes.txt 644',
    ]);
  });

  it('rewrites unreadable credentials as a private file, whatever mode the old one had', async () => {
    const dataDir = path.join(scratch, 'rewritten');
    fs.mkdirSync(dataDir, { mode: 0o700 });
    fs.writeFileSync(path.join(dataDir, 'dev-app.json'), 'not json', { mode: 0o600 });
    t = await startTestServer(dialect, { env: { CHATPORT_DATA_DIR: dataDir } });
    // As if someone loosened it while the server ran: a new file replaces it, created private.
    fs.chmodSync(path.join(dataDir, 'dev-app.json'), 0o666);
    const { created } = await ensureStartupApp(t.server.context);
    expect(created).toBe(true);
    expect(notPrivate(dataDir)).toEqual([]);
  });
});
