import type { Kysely } from 'kysely';
import type { Database, MessageRow, ReactionRow, UserRow } from '../../database/database.types.js';
import { parseArray, parseObject, type JsonObject } from '../../lib/json.js';
import { formatMicros } from '../../lib/time.js';
import { reactionsByMessage } from '../reactions/reactions.repository.js';
import { toReactionResponse } from '../reactions/reactions.models.js';
import { findUsersByIds } from '../users/users.repository.js';
import { missingUserResponse, toUserResponse } from '../users/users.models.js';
import { findMessagesByIds } from './messages.repository.js';

/** How many reactions `latest_reactions` carries, as Stream does. */
export const LATEST_REACTIONS_LIMIT = 10;

export interface MessageLookups {
  users: Map<string, UserRow>;
  reactions: Map<string, ReactionRow[]>;
  quoted: Map<string, MessageRow>;
  /** The user whose `own_reactions` are shown (a user token's caller); none for server tokens. */
  ownUserId?: string;
}

function userOf(users: Map<string, UserRow>, id: string): JsonObject {
  const row = users.get(id);
  return row ? toUserResponse(row) : missingUserResponse(id);
}

/** Stream's MessageResponse from a row and pre-fetched look-ups (no queries here). */
export function toMessageResponse(row: MessageRow, lookups: MessageLookups, withQuoted = true): JsonObject {
  const reactions = lookups.reactions.get(row.id) ?? [];
  const mentioned = parseArray<string>(row.mentioned_users);
  const response: JsonObject = {
    ...parseObject(row.custom),
    id: row.id,
    cid: row.cid,
    text: row.text,
    html: row.html,
    type: row.deleted_at !== null ? 'deleted' : row.type,
    user: userOf(lookups.users, row.user_id),
    attachments: parseArray(row.attachments),
    mentioned_users: mentioned.map((id) => userOf(lookups.users, id)),
    latest_reactions: reactions
      .slice(0, LATEST_REACTIONS_LIMIT)
      .map((r) => toReactionResponse(r, lookups.users.get(r.user_id))),
    own_reactions: lookups.ownUserId
      ? reactions
          .filter((r) => r.user_id === lookups.ownUserId)
          .map((r) => toReactionResponse(r, lookups.users.get(r.user_id)))
      : [],
    reaction_counts: parseObject(row.reaction_counts),
    reaction_scores: parseObject(row.reaction_scores),
    reply_count: row.reply_count,
    deleted_reply_count: 0,
    pinned: row.pinned === 1,
    silent: row.silent === 1,
    shadowed: false,
    created_at: formatMicros(row.created_at),
    updated_at: formatMicros(row.updated_at),
  };
  if (row.parent_id !== null) {
    response.parent_id = row.parent_id;
    response.show_in_channel = row.show_in_channel === 1;
  }
  if (row.quoted_message_id !== null) {
    response.quoted_message_id = row.quoted_message_id;
    const quoted = lookups.quoted.get(row.quoted_message_id);
    if (quoted && withQuoted) response.quoted_message = toMessageResponse(quoted, lookups, false);
  }
  if (row.deleted_at !== null) response.deleted_at = formatMicros(row.deleted_at);
  return response;
}

/** Presents messages with every look-up batched: a fixed number of queries, whatever the count. */
export async function presentMessages(
  db: Kysely<Database>,
  appId: number,
  rows: MessageRow[],
  ownUserId?: string,
): Promise<JsonObject[]> {
  if (rows.length === 0) return [];
  const quotedIds = rows.map((r) => r.quoted_message_id).filter((id): id is string => id !== null);
  const quoted =
    quotedIds.length > 0 ? await findMessagesByIds(db, appId, quotedIds) : new Map<string, MessageRow>();
  const all = [...rows, ...quoted.values()];
  const reactions = await reactionsByMessage(
    db,
    appId,
    all.map((r) => r.id),
  );
  const userIds = new Set<string>();
  for (const row of all) {
    userIds.add(row.user_id);
    for (const id of parseArray<string>(row.mentioned_users)) userIds.add(id);
    for (const reaction of (reactions.get(row.id) ?? []).slice(0, LATEST_REACTIONS_LIMIT))
      userIds.add(reaction.user_id);
  }
  if (ownUserId) userIds.add(ownUserId);
  const users = await findUsersByIds(db, appId, userIds);
  return rows.map((row) => toMessageResponse(row, { users, reactions, quoted, ownUserId }));
}

export async function presentMessage(
  db: Kysely<Database>,
  appId: number,
  row: MessageRow,
  ownUserId?: string,
): Promise<JsonObject> {
  const [message] = await presentMessages(db, appId, [row], ownUserId);
  return message!;
}
