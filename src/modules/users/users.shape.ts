import type { UserRow } from '../../database/database.types.js';
import { API_FORMS, defineShape, extendShape } from '../../lib/shapes/shape.js';

/**
 * Stream's UserResponse. `name`, `image` and the v2 spec's required fields chatport does not store
 * are custom data that the v2 form shows at the top level.
 */
export const userShape = defineShape<UserRow>({
  name: 'user',
  custom: 'custom',
  fields: [
    { name: 'id', kind: 'string' },
    { name: 'role', kind: 'string' },
    { name: 'teams', kind: 'json' },
    { name: 'banned', kind: 'flag' },
    { name: 'online', value: false, forms: API_FORMS },
    { name: 'created_at', kind: 'time' },
    { name: 'updated_at', kind: 'time' },
    { name: 'deleted_at', kind: 'time', optional: true },
    { name: 'deactivated_at', kind: 'time', optional: true },
  ],
  promoted: [
    { name: 'name', type: 'string' },
    { name: 'image', type: 'string' },
    { name: 'language', type: 'string', default: '' },
    { name: 'invisible', type: 'boolean', default: false },
    { name: 'shadow_banned', type: 'boolean', default: false },
    { name: 'blocked_user_ids', type: 'strings', default: [] },
    { name: 'teams_role', type: 'object' },
  ],
  inputOnly: ['last_active'],
});

/**
 * Stream's FullUserResponse (queries and upserts answer with it; a mute's `own_user` too): a user with
 * their own state. `channel_mutes` holds the user's mutes in force (ChannelMute objects, supplied: the
 * presenter reads them for every user of a response at once).
 */
export const fullUserShape = extendShape(userShape, {
  name: 'full user',
  fields: [{ name: 'channel_mutes', supplied: true, forms: API_FORMS }],
  promoted: [
    { name: 'devices', type: 'array', default: [] },
    { name: 'mutes', type: 'array', default: [] },
    { name: 'unread_count', type: 'number', default: 0 },
    { name: 'total_unread_count', type: 'number', default: 0 },
    { name: 'unread_channels', type: 'number', default: 0 },
    { name: 'unread_threads', type: 'number', default: 0 },
  ],
});

/**
 * Go's zero time, which Stream's servers write for a time never set: the v2 spec requires a user's
 * times, and a user whose record was hard-deleted has none left.
 */
const UNKNOWN_TIME = '0001-01-01T00:00:00.000000Z';

/** What a message or member shows for a user whose record was hard-deleted. */
export const missingUserShape = defineShape<{ id: string }>({
  name: 'missing user',
  fields: [
    { name: 'id', kind: 'string' },
    { name: 'role', value: 'user' },
    { name: 'teams', value: [] },
    { name: 'banned', value: false },
    { name: 'online', value: false },
    { name: 'deleted', value: true },
    { name: 'created_at', value: UNKNOWN_TIME, forms: ['v2'] },
    { name: 'updated_at', value: UNKNOWN_TIME, forms: ['v2'] },
    { name: 'custom', value: {}, forms: ['v2'] },
    { name: 'language', value: '', forms: ['v2'] },
    { name: 'invisible', value: false, forms: ['v2'] },
    { name: 'shadow_banned', value: false, forms: ['v2'] },
    { name: 'blocked_user_ids', value: [], forms: ['v2'] },
  ],
});
