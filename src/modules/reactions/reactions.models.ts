import type { ReactionRow, UserRow } from '../../database/database.types.js';
import { parseObject, type JsonObject } from '../../lib/json.js';
import { formatMicros } from '../../lib/time.js';
import { missingUserResponse, toUserResponse } from '../users/users.models.js';

/** Fields of a reaction that are not custom data. */
export const KNOWN_REACTION_FIELDS = new Set([
  'type',
  'score',
  'user_id',
  'user',
  'message_id',
  'created_at',
  'updated_at',
  'custom',
]);

/** Stream's ReactionResponse. */
export function toReactionResponse(row: ReactionRow, user: UserRow | undefined): JsonObject {
  return {
    ...parseObject(row.custom),
    message_id: row.message_id,
    user_id: row.user_id,
    user: user ? toUserResponse(user) : missingUserResponse(row.user_id),
    type: row.type,
    score: row.score,
    created_at: formatMicros(row.created_at),
    updated_at: formatMicros(row.updated_at),
  };
}
