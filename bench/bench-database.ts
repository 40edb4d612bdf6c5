/**
 * The benchmark's own database: a fresh SQLite file in a temporary data directory, or, when
 * DATABASE_URL names a PostgreSQL server, a fresh database on it, dropped afterwards. Also the
 * database's own JSON dump of the rows a channel export carries: the baseline of the export figures.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { DialectName } from '../src/database/database.js';
import {
  channelMuteTable,
  memberTable,
  messageTable,
  reactionTable,
  userTable,
} from '../src/modules/imports/import-tables.js';

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

/** The columns a dump carries of a table: those the importer writes, but the app's id. */
function dumpColumns(table: { columns: Record<string, string> }): string {
  return Object.keys(table.columns)
    .filter((column) => column !== 'app_id')
    .join(', ');
}

/**
 * The statements of a channel's dump: the rows a channel export carries (its members and their mutes
 * of it, its messages and their reactions, and with `users` the users its members are), each with
 * every column it stores but the app's id. Both exports carry the same rows, v1 nesting reactions and users in each message.
 */
function dumpStatements(appId: number, cid: string, users: boolean): Array<{ table: string; sql: string }> {
  const channel = `app_id = ${appId} and cid = '${cid.replaceAll("'", "''")}'`;
  return [
    { table: 'members', sql: `select ${dumpColumns(memberTable)} from members where ${channel}` },
    {
      table: 'channel_mutes',
      sql: `select ${dumpColumns(channelMuteTable)} from channel_mutes where ${channel}`,
    },
    {
      table: 'messages',
      sql: `select ${dumpColumns(messageTable)} from messages where ${channel} order by created_at, id`,
    },
    { table: 'reactions', sql: `select ${dumpColumns(reactionTable)} from reactions where ${channel}` },
    ...(users
      ? [
          {
            table: 'users',
            sql:
              `select ${dumpColumns(userTable)} from users where app_id = ${appId} ` +
              `and id in (select user_id from members where ${channel})`,
          },
        ]
      : []),
  ];
}

/**
 * The database's own JSON of the rows a channel export carries (dumpStatements), written to a file,
 * timed from start to exit: `sqlite3 -json`, or PostgreSQL's `row_to_json` through
 * `COPY ... TO STDOUT` in psql. Resolves with milliseconds and the bytes written.
 */
export async function dumpChannel(
  database: BenchDatabase,
  appId: number,
  cid: string,
  { users = false }: { users?: boolean } = {},
): Promise<{ millis: number; syncMillis: number; bytes: number }> {
  const outFile = path.join(database.dataDir, 'dump.json');
  const statements = dumpStatements(appId, cid, users);
  const millis =
    database.dialect === 'sqlite'
      ? await timeCommand(
          'sqlite3',
          ['-json', database.sqliteFile, statements.map((s) => `${s.sql};`).join('\n')],
          outFile,
        )
      : await timeCommand(
          'psql',
          [
            database.url!,
            '-X',
            '-q',
            ...statements.flatMap((s) => [
              '-c',
              `copy (select row_to_json(${s.table}) from (${s.sql}) ${s.table}) to stdout`,
            ]),
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
