import type { ReactionRow } from '../../database/database.types.js';
import { API_FORMS, defineShape } from '../../lib/shapes/shape.js';

/** Not `__proto__`: a type is a key of `reaction_counts`, where JavaScript would drop that one. */
export const REACTION_TYPE_PATTERN = /^(?!__proto__$)[\w@.:+-]{1,64}$/;

/** Stream's ReactionResponse; a v2 export line names its user by `user_id` alone. */
export const reactionShape = defineShape<ReactionRow>({
  name: 'reaction',
  custom: 'custom',
  fields: [
    { name: 'message_id', kind: 'string' },
    { name: 'user_id', kind: 'string' },
    { name: 'user', column: 'user_id', kind: 'user', forms: API_FORMS },
    { name: 'type', kind: 'string' },
    { name: 'score', kind: 'integer' },
    { name: 'created_at', kind: 'time' },
    { name: 'updated_at', kind: 'time' },
  ],
});
