/**
 * Channel mutes (`POST /moderation/mute/channel`, `/moderation/unmute/channel`): one row per user and
 * channel, with an optional expiry; an expired mute no longer counts (queryChannels' `muted`, a user's
 * `channel_mutes`) and is replaced by the next mute of the same channel. It stays stored until unmuted,
 * as Stream keeps it, so exports carry it with its `expires` (docs/data-model.md).
 */
import type { Kysely } from 'kysely';
import type { DatabaseDialect } from '../../database/database.js';
import type { ChannelMuteRow, Database } from '../../database/database.types.js';
import { inputError, notFound } from '../../lib/errors.js';
import { chunk, parseCid, unique } from '../../lib/ids.js';
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

/** The columns of a mute (its change mark is the incremental export's alone). */
export const CHANNEL_MUTE_COLUMNS = [
  'app_id',
  'user_id',
  'cid',
  'created_at',
  'updated_at',
  'expires_at',
] as const satisfies ReadonlyArray<keyof ChannelMuteRow>;

/**
 * The mutes still in force at `now` of each of the users, oldest first: a few queries for any number
 * of users (a page of queryUsers), never one a user.
 */
export async function liveMutesOfUsers(
  db: Kysely<Database>,
  appId: number,
  userIds: Iterable<string>,
  now: number,
): Promise<Map<string, ChannelMuteRow[]>> {
  const found = new Map<string, ChannelMuteRow[]>();
  for (const batch of chunk(unique(userIds).sort(), 500)) {
    const rows = await db
      .selectFrom('channel_mutes')
      .select(CHANNEL_MUTE_COLUMNS)
      .where('app_id', '=', appId)
      .where('user_id', 'in', batch)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .orderBy('user_id')
      .orderBy('created_at')
      .orderBy('cid')
      .execute();
    for (const row of rows) {
      const list = found.get(row.user_id);
      if (list) list.push(row);
      else found.set(row.user_id, [row]);
    }
  }
  return found;
}

/**
 * Every mute of the channel, expired ones included (a mute is stored until unmuted, as Stream keeps
 * it; `expires` says whether it is in force): what an export carries. In (created_at, user_id) order.
 */
export async function mutesOfChannel(
  db: Kysely<Database>,
  appId: number,
  cid: string,
): Promise<ChannelMuteRow[]> {
  return db
    .selectFrom('channel_mutes')
    .select(CHANNEL_MUTE_COLUMNS)
    .where('app_id', '=', appId)
    .where('cid', '=', cid)
    .orderBy('created_at')
    .orderBy('user_id')
    .execute();
}

/** Every mute the user holds, expired ones included (a user export), in (created_at, cid) order. */
export async function mutesOfUser(
  db: Kysely<Database>,
  appId: number,
  userId: string,
): Promise<ChannelMuteRow[]> {
  return db
    .selectFrom('channel_mutes')
    .select(CHANNEL_MUTE_COLUMNS)
    .where('app_id', '=', appId)
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .orderBy('cid')
    .execute();
}
