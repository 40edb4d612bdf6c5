import type { Kysely } from 'kysely';
import type { Database } from '../../database/database.types.js';
import { MICROS_PER_MILLI, type Clock } from '../../lib/time.js';
import type { TaskLease } from './tasks.types.js';
import { updateHeldTask } from './tasks.fence.js';

/**
 * Renews the lease of a running attempt to now + `leaseMillis`. Fenced: true only while this worker
 * still holds this attempt; false means the attempt was reaped or finished, and the handler must stop.
 */
export async function extendLease(
  db: Kysely<Database>,
  clock: Clock,
  lease: TaskLease,
  leaseMillis: number,
): Promise<boolean> {
  const now = clock.nowMicros();
  return updateHeldTask(
    db,
    lease,
    // updated_at stays: it tells clients when the task last changed, and a heartbeat changes nothing.
    { lease_expires_at: now + Math.round(leaseMillis * MICROS_PER_MILLI) },
  );
}

export interface LeaseKeeper {
  /** Stops renewing; resolves once no renewal is in flight, so none lands after the attempt ends. */
  stop(): Promise<void>;
}

/**
 * Renews a running attempt's lease every `everyMillis` (the worker uses a third of the lease, so two
 * renewals can fail before it lapses). `onLost` is called when a renewal finds the lease gone, or when
 * renewals fail with errors until past the lease's expiry, when it may already be someone else's.
 */
export function keepLeaseAlive(args: {
  db: Kysely<Database>;
  clock: Clock;
  lease: TaskLease;
  leaseMillis: number;
  everyMillis: number;
  /** When the lease runs out as things stand (microseconds). */
  expiresAt: number;
  onLost(): void;
  onError(error: unknown): void;
}): LeaseKeeper {
  const { db, clock, lease, leaseMillis } = args;
  let expiresAt = args.expiresAt;
  let renewal: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (renewal) return;
    const startedAt = clock.nowMicros();
    renewal = extendLease(db, clock, lease, leaseMillis)
      .then(
        (held) => {
          if (held) expiresAt = startedAt + leaseMillis * MICROS_PER_MILLI;
          else args.onLost();
        },
        (error: unknown) => {
          args.onError(error);
          if (clock.nowMicros() >= expiresAt) args.onLost();
        },
      )
      .finally(() => {
        renewal = undefined;
      });
  }, args.everyMillis);
  return {
    async stop() {
      clearInterval(timer);
      await renewal;
    },
  };
}
