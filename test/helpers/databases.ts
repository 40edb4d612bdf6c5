import crypto from 'node:crypto';
import pg from 'pg';

/**
 * The databases every suite runs on: SQLite always, PostgreSQL when TEST_DATABASE_URL names a server
 * (`.ci/run` sets it). Each test server gets a database of its own, created here and dropped after.
 */
export type TestDialect = 'sqlite' | 'postgres';

export const postgresUrl = process.env.TEST_DATABASE_URL || undefined;

export const testDialects: TestDialect[] = postgresUrl ? ['sqlite', 'postgres'] : ['sqlite'];

export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (!postgresUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = `chatport_test_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
