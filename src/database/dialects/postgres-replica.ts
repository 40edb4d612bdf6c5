import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import type { Database } from '../database.types.js';

/** How long an export waits for its read replica to replay what the primary had when it started. */
export const REPLICA_WAIT_MILLIS = 30_000;
const POLL_MILLIS = 100;

/**
 * Waits until the replica behind `replica` (a connection of the read pool) has replayed the primary's
 * write-ahead log up to where it stood now, so an export sees every change made before it started.
 * A server that is not in recovery (a second role or connection on the primary itself) has nothing to
 * wait for. Throws, for the task queue to retry later, when the replica stays behind for longer.
 */
export async function waitForReplica(primary: pg.Pool, replica: Kysely<Database>): Promise<void> {
  const { rows } = await sql<{ recovering: boolean }>`select pg_is_in_recovery() as recovering`.execute(
    replica,
  );
  if (!rows[0]?.recovering) return;
  const position = await primary.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn');
  const lsn = position.rows[0]!.lsn;
  const deadline = Date.now() + REPLICA_WAIT_MILLIS;
  for (;;) {
    const { rows: caught } = await sql<{ caught: boolean | null }>`
      select pg_last_wal_replay_lsn() >= ${lsn}::pg_lsn as caught`.execute(replica);
    if (caught[0]?.caught) return;
    if (Date.now() > deadline) {
      throw new Error(
        `the read replica has not replayed the primary's WAL up to ${lsn} within ${REPLICA_WAIT_MILLIS} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MILLIS));
  }
}
