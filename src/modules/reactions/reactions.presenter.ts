import type { ReactionRow } from '../../database/database.types.js';
import type { JsonObject } from '../../lib/json.js';
import { objectPresenters } from '../../lib/shapes/shape-object.js';
import type { ApiForm } from '../../lib/shapes/shape.js';
import type { UserLookup } from '../users/users.presenter.js';
import { reactionShape } from './reactions.shape.js';

const reactions = objectPresenters(reactionShape);

/** Stream's ReactionResponse in `form`, its user taken from `user` (userLookup). */
export function presentReaction(row: ReactionRow, user: UserLookup, form: ApiForm): JsonObject {
  return reactions[form](row, { user });
}
