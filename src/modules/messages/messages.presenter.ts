import type { Kysely } from 'kysely';
import type { Database, MessageRow, ReactionRow, UserRow } from '../../database/database.types.js';
import { parseArray, type JsonObject } from '../../lib/json.js';
import { objectPresenters } from '../../lib/shapes/shape-object.js';
import type { ApiForm } from '../../lib/shapes/shape.js';
import { reactionsByMessage } from '../reactions/reactions.repository.js';
import { presentReaction } from '../reactions/reactions.presenter.js';
import { findUsersByIds } from '../users/users.repository.js';
import { userLookup, type UserLookup } from '../users/users.presenter.js';
import { findMessagesByIds } from './messages.repository.js';
import { messageShape } from './messages.shape.js';

/** How many reactions `latest_reactions` carries, as Stream does. */
export const LATEST_REACTIONS_LIMIT = 10;

export interface MessageLookups {
  /** The users the messages show (userLookup), and any others the response shows beside them. */
  user: UserLookup;
  reactions: Map<string, ReactionRow[]>;
  quoted: Map<string, MessageRow>;
  /** The user whose `own_reactions` are shown (a user token's caller); none for server tokens. */
  ownUserId?: string;
}

export interface MessagePresentation {
  /** The user whose `own_reactions` are shown (a user token's caller); none for server tokens. */
  ownUserId?: string;
  /** The API generation answering. */
  form: ApiForm;
  /** Users the caller has just read (a message's author and mentions); only the others are looked up. */
  knownUsers?: ReadonlyMap<string, UserRow>;
  /** Users the response shows beside the messages (a channel's members): read with the messages' own. */
  alsoUsers?: Iterable<string>;
}

const messages = objectPresenters(messageShape);

/** Stream's MessageResponse in `form`, from a row and pre-fetched look-ups (no queries here). */
export function toMessageResponse(
  row: MessageRow,
  lookups: MessageLookups,
  form: ApiForm,
  withQuoted = true,
): JsonObject {
  const reactions = lookups.reactions.get(row.id) ?? [];
  const reaction = (r: ReactionRow) => presentReaction(r, lookups.user, form);
  const quoted = row.quoted_message_id === null ? undefined : lookups.quoted.get(row.quoted_message_id);
  return messages[form](row, {
    user: lookups.user,
    values: {
      latest_reactions: reactions.slice(0, LATEST_REACTIONS_LIMIT).map(reaction),
      own_reactions: lookups.ownUserId
        ? reactions.filter((r) => r.user_id === lookups.ownUserId).map(reaction)
        : [],
      quoted_message: quoted && withQuoted ? toMessageResponse(quoted, lookups, form, false) : undefined,
    },
  });
}

/**
 * The reactions of the messages among `rows` that have some, and of the messages they quote, by message
 * id: one query, read beside the quoted messages themselves rather than after them. A quoted message's
 * counts are not known until it is read, so its id is always asked for; one without reactions simply
 * matches none.
 */
async function reactionsOf(
  db: Kysely<Database>,
  appId: number,
  rows: MessageRow[],
  quotedIds: string[],
): Promise<Map<string, ReactionRow[]>> {
  // reaction_counts is exact (it changes with the reactions, in their transaction): a message without
  // counts has no reactions to look up, which spares a query for every new message.
  const reacted = new Set(rows.filter((r) => r.reaction_counts !== '{}').map((r) => r.id));
  for (const id of quotedIds) reacted.add(id);
  return reacted.size > 0 ? reactionsByMessage(db, appId, reacted) : new Map<string, ReactionRow[]>();
}

/**
 * What presenting these messages looks up (quoted messages, reactions, users), each read in one batched
 * query: a fixed number of queries, whatever the count.
 */
export async function readMessageLookups(
  db: Kysely<Database>,
  appId: number,
  rows: MessageRow[],
  { ownUserId, form, knownUsers, alsoUsers = [] }: MessagePresentation,
): Promise<MessageLookups> {
  const quotedIds = rows.map((r) => r.quoted_message_id).filter((id): id is string => id !== null);
  // The quoted messages and all the reactions are read side by side (on PostgreSQL they wait on the
  // network together); the users they show after.
  const [quoted, reactions] = await Promise.all([
    quotedIds.length > 0 ? findMessagesByIds(db, appId, quotedIds) : new Map<string, MessageRow>(),
    reactionsOf(db, appId, rows, quotedIds),
  ]);
  const all = [...rows, ...quoted.values()];
  const userIds = new Set<string>(alsoUsers);
  for (const row of all) {
    userIds.add(row.user_id);
    for (const id of parseArray<string>(row.mentioned_users)) userIds.add(id);
    for (const reaction of (reactions.get(row.id) ?? []).slice(0, LATEST_REACTIONS_LIMIT))
      userIds.add(reaction.user_id);
  }
  if (ownUserId) userIds.add(ownUserId);
  const users = new Map(knownUsers);
  const unknown = [...userIds].filter((id) => !users.has(id));
  if (unknown.length > 0)
    for (const [id, user] of await findUsersByIds(db, appId, unknown)) users.set(id, user);
  return { user: userLookup(users, form), reactions, quoted, ownUserId };
}

/** Presents messages with every look-up batched (readMessageLookups). */
export async function presentMessages(
  db: Kysely<Database>,
  appId: number,
  rows: MessageRow[],
  presentation: MessagePresentation,
): Promise<JsonObject[]> {
  if (rows.length === 0) return [];
  const lookups = await readMessageLookups(db, appId, rows, presentation);
  return rows.map((row) => toMessageResponse(row, lookups, presentation.form));
}

export async function presentMessage(
  db: Kysely<Database>,
  appId: number,
  row: MessageRow,
  presentation: MessagePresentation,
): Promise<JsonObject> {
  const [message] = await presentMessages(db, appId, [row], presentation);
  return message!;
}
