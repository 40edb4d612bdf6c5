import type { UserRow } from '../../database/database.types.js';
import type { JsonObject } from '../../lib/json.js';
import { objectPresenters } from '../../lib/shapes/shape-object.js';
import type { ApiForm } from '../../lib/shapes/shape.js';
import { fullUserShape, missingUserShape, userShape } from './users.shape.js';

const users = objectPresenters(userShape);
const fullUsers = objectPresenters(fullUserShape);
const missingUsers = objectPresenters(missingUserShape);

/** A user as the API shows them in `form` (UserResponse). */
export function presentUser(row: UserRow, form: ApiForm): JsonObject {
  return users[form](row);
}

/**
 * A user with their own state, as queries and upserts answer (FullUserResponse): `channelMutes` are
 * their mutes in force, presented (channels.presenter.ts, channelMutesByUser).
 */
export function presentFullUser(row: UserRow, form: ApiForm, channelMutes: JsonObject[]): JsonObject {
  return fullUsers[form](row, { values: { channel_mutes: channelMutes } });
}

/** The user by id from rows fetched beforehand, else the stand-in for a hard-deleted user. */
export function presentUserById(rows: Map<string, UserRow>, id: string, form: ApiForm): JsonObject {
  const row = rows.get(id);
  return row ? users[form](row) : missingUsers[form]({ id });
}

/** presentUserById over `rows`: what other shapes' `user` fields look users up with. */
export function userLookup(rows: Map<string, UserRow>, form: ApiForm): (id: string) => JsonObject {
  return (id) => presentUserById(rows, id, form);
}
