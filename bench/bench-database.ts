/**
 * The benchmark's own database: a fresh SQLite file in a temporary data directory, or, when
 * DATABASE_URL names a PostgreSQL server, a fresh database on it, dropped afterwards. Also the
 * database's own JSON dump of a channel's message rows: the baseline of the export figures.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { DialectName } from '../src/database/database.js';

export interface BenchDatabase {
  dialect: DialectName;
  dataDir: string;
  /** DATABASE_URL for chatport processes: undefined for SQLite (the file under the data dir). */
  url: string | undefined;
  /** The SQLite file, for the sqlite3 command-line shell. */
  sqliteFile: string;
  drop(): Promise<void>;
}

export async function createBenchDatabase(serverUrl: string | undefined): Promise<BenchDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatport-bench-'));
  const sqliteFile = path.join(dataDir, 'chatport.sqlite');
  const removeDir = () => fs.rmSync(dataDir, { recursive: true, force: true });
  if (!serverUrl)
    return { dialect: 'sqlite', dataDir, url: undefined, sqliteFile, drop: async () => removeDir() };
  if (!/^postgres(ql)?:\/\//.test(serverUrl)) throw new Error('DATABASE_URL must be a postgres:// URL');
  const name = `chatport_bench_${crypto.randomBytes(4).toString('hex')}`;
  await adminQuery(serverUrl, `create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    dialect: 'postgres',
    dataDir,
    url: url.toString(),
    sqliteFile,
    async drop() {
      await adminQuery(serverUrl, `drop database if exists ${name} with (force)`);
      removeDir();
    },
  };
}

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Runs a command with stdout into `outFile`; resolves with its wall-clock milliseconds. */
function timeCommand(command: string, args: string[], outFile: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const out = fs.openSync(outFile, 'w');
    const started = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', out, 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', (error) => {
      fs.closeSync(out);
      reject(new Error(`${command} could not start: ${error.message}`));
    });
    child.once('exit', (code) => {
      const millis = performance.now() - started;
      fs.closeSync(out);
      if (code === 0) resolve(millis);
      else reject(new Error(`${command} exited with ${code}: ${stderr.trim()}`));
    });
  });
}

/**
 * The database's own JSON of a channel's message rows, written to a file, timed from start to exit:
 * `sqlite3 -json`, or PostgreSQL's `row_to_json` through `COPY ... TO STDOUT` in psql. Resolves with
 * milliseconds and the bytes written.
 */
export async function dumpChannelMessages(
  database: BenchDatabase,
  appId: number,
  cid: string,
): Promise<{ millis: number; syncMillis: number; bytes: number }> {
  const outFile = path.join(database.dataDir, 'dump.json');
  const where = `app_id = ${appId} and cid = '${cid.replaceAll("'", "''")}' order by created_at, id`;
  const millis =
    database.dialect === 'sqlite'
      ? await timeCommand(
          'sqlite3',
          ['-json', database.sqliteFile, `select * from messages where ${where}`],
          outFile,
        )
      : await timeCommand(
          'psql',
          [
            database.url!,
            '-X',
            '-q',
            '-c',
            `copy (select row_to_json(m) from messages m where ${where}) to stdout`,
          ],
          outFile,
        );
  const bytes = fs.statSync(outFile).size;
  // Not part of the dump's time: what making its file durable would add, as an export's commit does.
  const syncStart = performance.now();
  const handle = fs.openSync(outFile, 'r+');
  fs.fsyncSync(handle);
  fs.closeSync(handle);
  const syncMillis = performance.now() - syncStart;
  fs.rmSync(outFile);
  return { millis, syncMillis, bytes };
}
