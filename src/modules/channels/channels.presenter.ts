import type { Kysely } from 'kysely';
import type { ChannelRow, Database, MemberRow, MessageRow } from '../../database/database.types.js';
import type { JsonObject } from '../../lib/json.js';
import { findUsersByIds } from '../users/users.repository.js';
import { channelMessagePage } from '../messages/messages.repository.js';
import { presentMessages } from '../messages/messages.presenter.js';
import { toChannelResponse, toMemberResponse } from './channels.models.js';
import { membersOfChannels } from './channels.repository.js';

export interface ChannelStateOptions {
  messageLimit: number;
  /** Page back from this message (Stream's `id_lt`). */
  before?: { createdAt: number; id: string };
  memberLimit: number;
  ownUserId?: string;
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
  const members = await membersOfChannels(
    db,
    appId,
    channels.map((c) => c.cid),
  );
  const pages = new Map<string, MessageRow[]>();
  for (const channel of channels) {
    pages.set(
      channel.cid,
      options.messageLimit === 0
        ? []
        : await channelMessagePage(db, appId, channel.cid, {
            limit: options.messageLimit,
            before: options.before,
            hiddenUntil: channel.truncated_at,
          }),
    );
  }
  const presented = await presentMessages(db, appId, [...pages.values()].flat(), options.ownUserId);
  const messagesById = new Map(presented.map((m) => [m.id as string, m]));
  const userIds = new Set<string>();
  for (const channel of channels) {
    if (channel.created_by_id) userIds.add(channel.created_by_id);
    if (channel.truncated_by_id) userIds.add(channel.truncated_by_id);
    for (const member of (members.get(channel.cid) ?? []).slice(0, options.memberLimit))
      userIds.add(member.user_id);
  }
  const users = await findUsersByIds(db, appId, userIds);
  return channels.map((channel) => {
    const channelMembers: MemberRow[] = (members.get(channel.cid) ?? []).slice(0, options.memberLimit);
    const membership = options.ownUserId
      ? channelMembers.find((m) => m.user_id === options.ownUserId)
      : undefined;
    return {
      channel: toChannelResponse(channel, users),
      members: channelMembers.map((m) => toMemberResponse(m, users.get(m.user_id))),
      messages: (pages.get(channel.cid) ?? []).map((m) => messagesById.get(m.id)!),
      pinned_messages: [],
      read: [],
      watchers: [],
      watcher_count: 0,
      threads: [],
      ...(membership ? { membership: toMemberResponse(membership, users.get(membership.user_id)) } : {}),
    };
  });
}
