import type { Kysely } from 'kysely';
import { expect } from 'vitest';
import type { Database } from '../../src/database/database.types.js';
import { formatMicros } from '../../src/lib/time.js';
import type { V2Line } from './exports.js';

/** What replaying export files builds: every entity by key, tombstones removing. */
export class Replica {
  readonly members = new Map<string, Record<string, unknown>>();
  readonly mutes = new Map<string, Record<string, unknown>>();
  readonly messages = new Map<string, Record<string, unknown>>();
  readonly reactions = new Map<string, Record<string, unknown>>();

  static reactionKey(data: Record<string, unknown>): string {
    return `${String(data.message_id)}/${String(data.user_id)}/${String(data.type)}`;
  }

  static keyOf(line: V2Line): string {
    const { data } = line;
    if (line.type === 'member') return `member:${String(data.user_id)}`;
    if (line.type === 'channel_mute') return `channel_mute:${String(data.user_id)}`;
    if (line.type === 'message') return `message:${String(data.id)}`;
    if (line.type === 'reaction') return `reaction:${Replica.reactionKey(data)}`;
    if (line.type === 'tombstone') {
      const entity = String(data.entity);
      if (entity === 'member') return `tombstone:member:${String(data.user_id)}`;
      if (entity === 'channel_mute') return `tombstone:channel_mute:${String(data.user_id)}`;
      if (entity === 'message') return `tombstone:message:${String(data.id)}`;
      return `tombstone:reaction:${Replica.reactionKey(data)}`;
    }
    return `${line.type}:${String(data.cid ?? data.id)}`;
  }

  apply(lines: V2Line[]): void {
    for (const { type, data } of lines) {
      if (type === 'member') this.members.set(String(data.user_id), data);
      else if (type === 'channel_mute') this.mutes.set(String(data.user_id), data);
      else if (type === 'message') this.messages.set(String(data.id), data);
      else if (type === 'reaction') this.reactions.set(Replica.reactionKey(data), data);
      else if (type === 'tombstone') {
        if (data.entity === 'member') this.members.delete(String(data.user_id));
        else if (data.entity === 'channel_mute') this.mutes.delete(String(data.user_id));
        else if (data.entity === 'message') this.messages.delete(String(data.id));
        else if (data.entity === 'reaction') this.reactions.delete(Replica.reactionKey(data));
        else throw new Error(`unknown tombstone ${JSON.stringify(data)}`);
      }
    }
  }
}

/** A replica's entries in key order. */
export const sorted = <T>(map: Map<string, T>) => [...map.entries()].sort(([a], [b]) => (a < b ? -1 : 1));

/** Ground truth: the channel's members, mutes, messages and reactions as the database holds them. */
export async function channelTruth(db: Kysely<Database>, appId: number, cid: string) {
  const members = await db
    .selectFrom('members')
    .select(['user_id', 'channel_role'])
    .where('app_id', '=', appId)
    .where('cid', '=', cid)
    .orderBy('user_id')
    .execute();
  const mutes = await db
    .selectFrom('channel_mutes')
    .select(['user_id', 'updated_at', 'expires_at'])
    .where('app_id', '=', appId)
    .where('cid', '=', cid)
    .orderBy('user_id')
    .execute();
  const messages = await db
    .selectFrom('messages')
    .select(['id', 'text', 'updated_at', 'deleted_at'])
    .where('app_id', '=', appId)
    .where('cid', '=', cid)
    .orderBy('id')
    .execute();
  const reactions = await db
    .selectFrom('reactions')
    .innerJoin('messages', (join) =>
      join
        .onRef('messages.app_id', '=', 'reactions.app_id')
        .onRef('messages.id', '=', 'reactions.message_id'),
    )
    .select(['reactions.message_id', 'reactions.user_id', 'reactions.type', 'reactions.score'])
    .where('reactions.app_id', '=', appId)
    .where('messages.cid', '=', cid)
    .execute();
  return { members, mutes, messages, reactions };
}

/**
 * The replica holds exactly what the database holds (`truth`), and each of its entities is, field for
 * field, what a full export written now (`fullExport`) carries.
 */
export function expectSameEntities(
  replica: Replica,
  truth: Awaited<ReturnType<typeof channelTruth>>,
  fullExport: V2Line[],
): void {
  expect(sorted(replica.members).map(([, m]) => [m.user_id, m.channel_role])).toEqual(
    truth.members.map((m) => [m.user_id, m.channel_role]),
  );
  expect(sorted(replica.mutes).map(([, m]) => [m.user_id, m.updated_at, m.expires ?? null])).toEqual(
    truth.mutes.map((m) => [
      m.user_id,
      formatMicros(m.updated_at),
      m.expires_at === null ? null : formatMicros(m.expires_at),
    ]),
  );
  expect(sorted(replica.messages).map(([, m]) => [m.id, m.text, m.updated_at, m.deleted_at ?? null])).toEqual(
    truth.messages.map((m) => [
      m.id,
      m.text,
      formatMicros(m.updated_at),
      m.deleted_at === null ? null : formatMicros(m.deleted_at),
    ]),
  );
  expect(sorted(replica.reactions).map(([, r]) => [r.message_id, r.user_id, r.type, r.score])).toEqual(
    truth.reactions
      .map((r) => [r.message_id, r.user_id, r.type, r.score])
      .sort((a, b) => (`${a[0]}/${a[1]}/${a[2]}` < `${b[0]}/${b[1]}/${b[2]}` ? -1 : 1)),
  );
  const full = new Replica();
  full.apply(fullExport);
  expect(sorted(replica.members)).toEqual(sorted(full.members));
  expect(sorted(replica.mutes)).toEqual(sorted(full.mutes));
  expect(sorted(replica.messages)).toEqual(sorted(full.messages));
  expect(sorted(replica.reactions)).toEqual(sorted(full.reactions));
}
