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
export function presentUserById(rows: ReadonlyMap<string, UserRow>, id: string, form: ApiForm): JsonObject {
  const row = rows.get(id);
  return row ? users[form](row) : missingUsers[form]({ id });
}

/** A user by id, as other shapes' `user` fields show them (ObjectSupplies.user). */
export type UserLookup = (id: string) => JsonObject;

/**
 * presentUserById over `rows`, each user presented once: a response that shows a user many times (as
 * the author of messages, a reactor, a member) holds one object for them, built once. Make one for a
 * response and present all of it with it; what it hands out must not be changed.
 */
export function userLookup(rows: ReadonlyMap<string, UserRow>, form: ApiForm): UserLookup {
  const presented = new Map<string, JsonObject>();
  return (id) => {
    let user = presented.get(id);
    if (user === undefined) {
      user = presentUserById(rows, id, form);
      presented.set(id, user);
    }
    return user;
  };
}
