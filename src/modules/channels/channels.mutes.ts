/**
 * Channel mutes (`POST /moderation/mute/channel`, `/moderation/unmute/channel`): one row per user and
 * channel, with an optional expiry; an expired mute no longer counts (queryChannels' `muted`) and is
 * replaced by the next mute of the same channel.
 */
import type { Kysely } from 'kysely';
import type { DatabaseDialect } from '../../database/database.js';
import type { ChannelMuteRow, Database } from '../../database/database.types.js';
import { inputError, notFound } from '../../lib/errors.js';
import { parseCid } from '../../lib/ids.js';
import type { Clock } from '../../lib/time.js';
import { assertUsersExist } from '../users/users.usecases.js';
import { findChannelsByCids } from './channels.repository.js';

interface Deps {
  dialect: DatabaseDialect;
  clock: Clock;
}

/** `channel_cid` and `channel_cids` together, each checked; at least one. */
export function mutedCids(channelCid: string | undefined, channelCids: string[] | undefined): string[] {
  const cids = [...new Set([...(channelCid !== undefined ? [channelCid] : []), ...(channelCids ?? [])])];
  if (cids.length === 0) throw inputError('channel_cids', 'must name at least one channel');
  cids.forEach((cid, index) => {
    if (!parseCid(cid)) throw inputError(`channel_cids.${index}`, `"${cid}" is not a valid cid`);
  });
  return cids.sort();
}

/** Mutes the channels for the user (`expirationMs` from now, or until unmuted); returns the rows. */
export async function muteChannels(
  { dialect, clock }: Deps,
  appId: number,
  userId: string,
  cids: string[],
  expirationMs: number | undefined,
): Promise<ChannelMuteRow[]> {
  return dialect.writeTransaction(async (db) => {
    await assertUsersExist(db, appId, [userId], 'user_id');
    const channels = await findChannelsByCids(db, appId, cids);
    const missing = cids.filter((cid) => channels.get(cid)?.deleted_at !== null || !channels.has(cid));
    if (missing.length > 0) throw notFound(`channels ${missing.join(', ')} do not exist`);
    const now = clock.nowMicros();
    const expiresAt = expirationMs === undefined ? null : now + expirationMs * 1000;
    const rows: ChannelMuteRow[] = [];
    for (const cid of cids) {
      rows.push(
        await db
          .insertInto('channel_mutes')
          .values({
            app_id: appId,
            user_id: userId,
            cid,
            created_at: now,
            updated_at: now,
            expires_at: expiresAt,
          })
          .onConflict((oc) =>
            oc.columns(['app_id', 'user_id', 'cid']).doUpdateSet({ updated_at: now, expires_at: expiresAt }),
          )
          .returningAll()
          .executeTakeFirstOrThrow(),
      );
    }
    return rows;
  });
}

export async function unmuteChannels(
  { dialect }: Deps,
  appId: number,
  userId: string,
  cids: string[],
): Promise<void> {
  await dialect.writeTransaction(async (db) => {
    await assertUsersExist(db, appId, [userId], 'user_id');
    await db
      .deleteFrom('channel_mutes')
      .where('app_id', '=', appId)
      .where('user_id', '=', userId)
      .where('cid', 'in', cids)
      .execute();
  });
}

/** The user's mutes still in force at `now`, oldest first. */
export async function activeMutesOf(
  db: Kysely<Database>,
  appId: number,
  userId: string,
  now: number,
): Promise<ChannelMuteRow[]> {
  return db
    .selectFrom('channel_mutes')
    .selectAll()
    .where('app_id', '=', appId)
    .where('user_id', '=', userId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .orderBy('created_at')
    .orderBy('cid')
    .execute();
}
