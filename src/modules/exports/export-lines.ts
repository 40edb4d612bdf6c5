/**
 * The line types of a v2 channel export, the one list every part that writes or reads them derives
 * from: the writers' line prefixes, the importer's record kinds, the documented JSON Schema's enum
 * (test/exports checks docs/schemas/channel-export-v2.schema.json against it).
 */

/**
 * In the order a file carries them: users (with `export_users`), channels, tombstones (incremental
 * exports), members, channel mutes, messages, reactions. Every entity follows what it names, so a file
 * imports in one pass, and deletes come before the writes, so that replaying the lines in order ends
 * as the database did.
 */
export const V2_LINE_TYPES = [
  'user',
  'channel',
  'tombstone',
  'member',
  'channel_mute',
  'message',
  'reaction',
] as const;

export type V2LineType = (typeof V2_LINE_TYPES)[number];

/** The text a line of `type` starts with, up to its data object. */
export function linePrefix(type: V2LineType): string {
  return `{"type":${JSON.stringify(type)},"data":`;
}

/** The text after a line's data object. */
export const LINE_SUFFIX = '}\n';
