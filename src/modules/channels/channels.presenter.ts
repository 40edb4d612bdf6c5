import type { Kysely } from 'kysely';
import type {
  ChannelMuteRow,
  ChannelRow,
  Database,
  MemberRow,
  MessageRow,
} from '../../database/database.types.js';
import type { JsonObject } from '../../lib/json.js';
import { objectPresenters } from '../../lib/shapes/shape-object.js';
import type { ApiForm } from '../../lib/shapes/shape.js';
import { channelConfigWithInfo } from '../channel-types/channel-types.declaration.js';
import { findUsersByIds } from '../users/users.repository.js';
import { userLookup, type UserLookup } from '../users/users.presenter.js';
import { channelMessagePage } from '../messages/messages.repository.js';
import { readMessageLookups, toMessageResponse } from '../messages/messages.presenter.js';
import { channelMuteShape, channelShape, memberShape } from './channels.shape.js';
import { liveMutesOfUsers } from './channels.mutes.js';
import { findChannelsByCids, memberPagesOfChannels, membershipsOf } from './channels.repository.js';

const channels = objectPresenters(channelShape);
const members = objectPresenters(memberShape);
const mutes = objectPresenters(channelMuteShape);

/** Stream's ChannelResponse in `form`, its creator and truncating user taken from `user` (userLookup). */
export function presentChannel(row: ChannelRow, user: UserLookup, form: ApiForm): JsonObject {
  return channels[form](row, {
    user,
    values: { config: channelConfigWithInfo(row.type, row.created_at) },
  });
}

/** Stream's ChannelMemberResponse in `form`, the member's user taken from `user` (userLookup). */
export function presentMember(row: MemberRow, user: UserLookup, form: ApiForm): JsonObject {
  return members[form](row, { user });
}

/** The later of two optional times. */
function latest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}

/** Stream's ChannelMute in `form`: its user and channel taken from `user` (userLookup) and `channel`. */
export function presentChannelMute(
  row: ChannelMuteRow,
  channel: ChannelRow,
  user: UserLookup,
  form: ApiForm,
): JsonObject {
  return mutes[form](row, {
    user,
    values: { channel: presentChannel(channel, user, form) },
  });
}

/**
 * A presenter of the ChannelMutes among `rows` in `form`, their users and channels read beforehand in
 * one query each for all the rows; it gives nothing for a mute of a channel no longer stored.
 */
async function channelMutePresenter(
  db: Kysely<Database>,
  appId: number,
  rows: ChannelMuteRow[],
  form: ApiForm,
): Promise<(row: ChannelMuteRow) => JsonObject | undefined> {
  if (rows.length === 0) return () => undefined;
  const channels = await findChannelsByCids(
    db,
    appId,
    rows.map((row) => row.cid),
  );
  const userIds = rows.map((row) => row.user_id);
  for (const channel of channels.values()) {
    if (channel.created_by_id) userIds.push(channel.created_by_id);
    if (channel.truncated_by_id) userIds.push(channel.truncated_by_id);
  }
  const user = userLookup(await findUsersByIds(db, appId, userIds), form);
  return (row) => {
    const channel = channels.get(row.cid);
    return channel ? presentChannelMute(row, channel, user, form) : undefined;
  };
}

/** Stream's ChannelMute of each row in `form` (see channelMutePresenter), in the rows' order. */
export async function presentChannelMutes(
  db: Kysely<Database>,
  appId: number,
  rows: ChannelMuteRow[],
  form: ApiForm,
): Promise<JsonObject[]> {
  const present = await channelMutePresenter(db, appId, rows, form);
  return presentAll(rows, present);
}

/** The presented rows, those the presenter gives nothing for left out. */
function presentAll(
  rows: ChannelMuteRow[],
  present: (row: ChannelMuteRow) => JsonObject | undefined,
): JsonObject[] {
  const presented: JsonObject[] = [];
  for (const row of rows) {
    const json = present(row);
    if (json) presented.push(json);
  }
  return presented;
}

/**
 * The `channel_mutes` of each of the users (FullUserResponse, OwnUserResponse): their mutes in force at
 * `now`, oldest first, by user id; a user without any is not in the map. A fixed number of queries
 * whatever the number of users.
 */
export async function channelMutesByUser(
  db: Kysely<Database>,
  appId: number,
  userIds: Iterable<string>,
  now: number,
  form: ApiForm,
): Promise<Map<string, JsonObject[]>> {
  const live = await liveMutesOfUsers(db, appId, userIds, now);
  const present = await channelMutePresenter(db, appId, [...live.values()].flat(), form);
  const byUser = new Map<string, JsonObject[]>();
  for (const [userId, rows] of live) byUser.set(userId, presentAll(rows, present));
  return byUser;
}

export interface ChannelStateOptions {
  messageLimit: number;
  /** Page back from this message (Stream's `id_lt`). */
  before?: { createdAt: number; id: string };
  memberLimit: number;
  /** Members to skip first (the `members.offset` of a channel query). Default 0. */
  memberOffset?: number;
  /** Whose view: their `membership` is shown, and their own truncation hides messages too. */
  ownUserId?: string;
  /** The API generation answering. */
  form: ApiForm;
}

/**
 * The page of messages of each channel that `options` asks for, by cid, and the own user's memberships
 * they depend on: nobody sees messages from before a truncation, nor a member from before their cleared
 * or hidden history.
 */
async function messagePagesOf(
  db: Kysely<Database>,
  appId: number,
  channels: ChannelRow[],
  options: ChannelStateOptions,
): Promise<{ pages: Map<string, MessageRow[]>; memberships: Map<string, MemberRow> }> {
  const memberships = options.ownUserId
    ? await membershipsOf(
        db,
        appId,
        options.ownUserId,
        channels.map((c) => c.cid),
      )
    : new Map<string, MemberRow>();
  const pages = new Map<string, MessageRow[]>();
  for (const channel of channels) {
    const own = memberships.get(channel.cid);
    pages.set(
      channel.cid,
      options.messageLimit === 0
        ? []
        : await channelMessagePage(db, appId, channel.cid, {
            limit: options.messageLimit,
            before: options.before,
            hiddenUntil: latest(
              channel.truncated_at,
              latest(own?.truncated_at ?? null, own?.hide_messages_before ?? null),
            ),
          }),
    );
  }
  return { pages, memberships };
}

/**
 * Stream's ChannelStateResponse for each channel: the channel, its members and its newest messages,
 * with users, reactions and quoted messages fetched in batches across all channels.
 */
export async function presentChannelStates(
  db: Kysely<Database>,
  appId: number,
  channels: ChannelRow[],
  options: ChannelStateOptions,
): Promise<JsonObject[]> {
  if (channels.length === 0) return [];
  // Side by side: on PostgreSQL the members' and the messages' queries wait on the network together.
  const [members, { pages, memberships }] = await Promise.all([
    memberPagesOfChannels(
      db,
      appId,
      channels.map((c) => c.cid),
      { limit: options.memberLimit, offset: options.memberOffset ?? 0 },
    ),
    messagePagesOf(db, appId, channels, options),
  ]);
  const pageOf = (cid: string): MemberRow[] => members.get(cid) ?? [];
  const alsoUsers = new Set<string>();
  for (const channel of channels) {
    if (channel.created_by_id) alsoUsers.add(channel.created_by_id);
    if (channel.truncated_by_id) alsoUsers.add(channel.truncated_by_id);
    for (const member of pageOf(channel.cid)) alsoUsers.add(member.user_id);
  }
  const lookups = await readMessageLookups(db, appId, [...pages.values()].flat(), {
    ownUserId: options.ownUserId,
    form: options.form,
    alsoUsers,
  });
  const { user } = lookups;
  return channels.map((channel) => {
    const channelMembers = pageOf(channel.cid);
    const membership = memberships.get(channel.cid);
    return {
      channel: presentChannel(channel, user, options.form),
      members: channelMembers.map((m) => presentMember(m, user, options.form)),
      messages: (pages.get(channel.cid) ?? []).map((m) => toMessageResponse(m, lookups, options.form)),
      pinned_messages: [],
      read: [],
      watchers: [],
      watcher_count: 0,
      threads: [],
      ...(membership
        ? { membership: presentMember(membership, user, options.form), hidden: membership.hidden === 1 }
        : {}),
    };
  });
}
