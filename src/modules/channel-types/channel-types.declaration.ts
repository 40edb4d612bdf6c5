/**
 * Stream's built-in channel types, declared once: `GET /channeltypes`, `GET /channeltypes/{name}`, a
 * channel's `config` and `GET /app`'s `channel_configs` all derive from here. chatport keeps no
 * channel types of its own and enforces none of these settings (see docs/data-model.md).
 */
import { formatMicros } from '../../lib/time.js';
import type { JsonObject } from '../../lib/json.js';

/**
 * The features every built-in type shares: what chatport actually does where it matters (no URL
 * enrichment, no commands run, messages kept forever), Stream's defaults elsewhere.
 */
const SHARED_FEATURES = {
  typing_events: true,
  read_events: true,
  connect_events: true,
  delivery_events: false,
  search: true,
  reactions: true,
  replies: true,
  quotes: true,
  mutes: true,
  uploads: true,
  url_enrichment: false,
  custom_events: true,
  push_notifications: true,
  reminders: false,
  mark_messages_pending: false,
  polls: false,
  user_message_reminders: false,
  shared_locations: false,
  count_messages: false,
  skip_last_msg_update_for_system_msgs: false,
  message_retention: 'infinite',
  max_message_length: 5000,
  automod: 'disabled',
  automod_behavior: 'flag',
} as const;

/** The five types every Stream app starts with. */
export const BUILT_IN_CHANNEL_TYPES = ['messaging', 'livestream', 'team', 'gaming', 'commerce'] as const;

export function isBuiltInChannelType(name: string): boolean {
  return (BUILT_IN_CHANNEL_TYPES as readonly string[]).includes(name);
}

/** Stream's ChannelConfig (`GET /app`'s `channel_configs`): commands by name. */
export function channelConfig(name: string, createdAt: number): JsonObject {
  const at = formatMicros(createdAt);
  return { name, created_at: at, updated_at: at, ...SHARED_FEATURES, commands: [] };
}

/** Stream's ChannelConfigWithInfo (a channel's `config`): commands as objects; chatport runs none. */
export const channelConfigWithInfo = channelConfig;

/**
 * Stream's ChannelTypeConfig (`GET /channeltypes`): the config with the type's permissions and grants,
 * empty because chatport checks no permissions beyond the server and user token rules.
 */
export function channelTypeConfig(name: string, createdAt: number): JsonObject {
  return { ...channelConfigWithInfo(name, createdAt), permissions: [], grants: {} };
}

/** `channel_configs` of `GET /app`: every built-in type, created with the app. */
export function builtInChannelConfigs(appCreatedAt: number): Record<string, JsonObject> {
  return Object.fromEntries(BUILT_IN_CHANNEL_TYPES.map((name) => [name, channelConfig(name, appCreatedAt)]));
}
