import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamChat } from 'stream-chat';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/database/database.types.js';
import { formatMicros } from '../../src/lib/time.js';
import { testDialects } from '../helpers/databases.js';
import { exportAndDownload, parseV2, type V2Line } from '../helpers/exports.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const ids = (prefix: string, count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => `${prefix}${String(from + i).padStart(2, '0')}`);

/** What replaying export files builds: every entity by key, tombstones removing. */
class Replica {
  readonly members = new Map<string, Record<string, unknown>>();
  readonly messages = new Map<string, Record<string, unknown>>();
  readonly reactions = new Map<string, Record<string, unknown>>();

  static reactionKey(data: Record<string, unknown>): string {
    return `${String(data.message_id)}/${String(data.user_id)}/${String(data.type)}`;
  }

  static keyOf(line: V2Line): string {
    const { data } = line;
    if (line.type === 'member') return `member:${String(data.user_id)}`;
    if (line.type === 'message') return `message:${String(data.id)}`;
    if (line.type === 'reaction') return `reaction:${Replica.reactionKey(data)}`;
    if (line.type === 'tombstone') {
      const entity = String(data.entity);
      if (entity === 'member') return `tombstone:member:${String(data.user_id)}`;
      if (entity === 'message') return `tombstone:message:${String(data.id)}`;
      return `tombstone:reaction:${Replica.reactionKey(data)}`;
    }
    return `${line.type}:${String(data.cid ?? data.id)}`;
  }

  apply(lines: V2Line[]): void {
    for (const { type, data } of lines) {
      if (type === 'member') this.members.set(String(data.user_id), data);
      else if (type === 'message') this.messages.set(String(data.id), data);
      else if (type === 'reaction') this.reactions.set(Replica.reactionKey(data), data);
      else if (type === 'tombstone') {
        if (data.entity === 'member') this.members.delete(String(data.user_id));
        else if (data.entity === 'message') this.messages.delete(String(data.id));
        else if (data.entity === 'reaction') this.reactions.delete(Replica.reactionKey(data));
        else throw new Error(`unknown tombstone ${JSON.stringify(data)}`);
      }
    }
  }
}

const sorted = <T>(map: Map<string, T>) => [...map.entries()].sort(([a], [b]) => (a < b ? -1 : 1));

describe.each(testDialects)('incremental channel exports (%s)', (dialect) => {
  let t: TestServer;
  let client: StreamChat;
  let db: Kysely<Database>;
  let appId: number;

  beforeAll(async () => {
    t = await startTestServer(dialect);
    client = t.app.client;
    db = t.server.context.db;
    appId = (
      await db.selectFrom('apps').select('id').where('api_key', '=', t.app.apiKey).executeTakeFirstOrThrow()
    ).id;
    await client.upsertUsers(ids('u', 12).map((id) => ({ id })));
  });

  afterAll(async () => {
    await t?.close();
  });

  /** Ground truth: the channel's members, messages and reactions as the database holds them. */
  async function truth(cid: string) {
    const members = await db
      .selectFrom('members')
      .select(['user_id', 'channel_role'])
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
    return { members, messages, reactions };
  }

  async function exportV2(cid: string, sinceCursor?: string) {
    const [type, id] = cid.split(':');
    const { task, text } = await exportAndDownload(
      client,
      [{ type, id }],
      sinceCursor ? { version: 'v2', since_cursor: sinceCursor } : { version: 'v2' },
    );
    const cursor = task.result!.cursor;
    expect(typeof cursor).toBe('string');
    return { lines: parseV2(text), cursor: cursor as string, result: task.result! };
  }

  /** The replica holds exactly what the database holds, field for field as a full export writes it. */
  async function expectReplicaIsTheDatabase(replica: Replica, cid: string) {
    const db = await truth(cid);
    expect(sorted(replica.members).map(([, m]) => [m.user_id, m.channel_role])).toEqual(
      db.members.map((m) => [m.user_id, m.channel_role]),
    );
    expect(
      sorted(replica.messages).map(([, m]) => [m.id, m.text, m.updated_at, m.deleted_at ?? null]),
    ).toEqual(
      db.messages.map((m) => [
        m.id,
        m.text,
        formatMicros(m.updated_at),
        m.deleted_at === null ? null : formatMicros(m.deleted_at),
      ]),
    );
    expect(sorted(replica.reactions).map(([, r]) => [r.message_id, r.user_id, r.type, r.score])).toEqual(
      db.reactions
        .map((r) => [r.message_id, r.user_id, r.type, r.score])
        .sort((a, b) => (`${a[0]}/${a[1]}/${a[2]}` < `${b[0]}/${b[1]}/${b[2]}` ? -1 : 1)),
    );
    // And every field of every line is what a full export of the channel now writes.
    const full = new Replica();
    full.apply((await exportV2(cid)).lines);
    expect(sorted(replica.members)).toEqual(sorted(full.members));
    expect(sorted(replica.messages)).toEqual(sorted(full.messages));
    expect(sorted(replica.reactions)).toEqual(sorted(full.reactions));
  }

  function expectNoKeyTwice(lines: V2Line[]) {
    const keys = lines.filter((l) => l.type !== 'channel').map(Replica.keyOf);
    expect(keys.length).toBe(new Set(keys).size);
  }

  it('chained exports replayed in order give exactly the database, while several clients write', async () => {
    const channel = client.channel('messaging', 'busy', {
      created_by_id: 'u00',
      members: ids('u', 6),
    } as never);
    await channel.create();
    for (const id of ids('seed-', 10))
      await channel.sendMessage({ id, text: `first ${id}`, user_id: 'u00' } as never);
    await channel.sendReaction('seed-00', { type: 'like', user_id: 'u01' });

    const replica = new Replica();
    const first = await exportV2('messaging:busy');
    replica.apply(first.lines);
    let cursor = first.cursor;

    const failures: string[] = [];
    let writing = true;
    const sent: string[] = [...ids('seed-', 10)];
    const writer = async (w: number) => {
      let n = 0;
      while (writing) {
        n++;
        const user = `u${String((w * 3 + n) % 12).padStart(2, '0')}`;
        const target = sent[(w * 7 + n * 5) % sent.length]!;
        try {
          switch (n % 9) {
            case 0:
            case 1: {
              const id = `w${w}-${n}`;
              await channel.sendMessage({
                id,
                text: `from ${w}`,
                user_id: user,
                ...(n % 4 === 1 ? { parent_id: target } : {}),
              } as never);
              sent.push(id);
              break;
            }
            case 2:
              await client.updateMessage({ id: target, text: `edited by ${w} at ${n}` } as never, 'u00');
              break;
            case 3:
              await channel.sendReaction(target, {
                type: n % 2 ? 'like' : 'love',
                user_id: user,
                score: n % 5,
              });
              break;
            case 4:
              await channel.deleteReaction(target, n % 2 ? 'love' : 'like', user);
              break;
            case 5:
              await client.deleteMessage(target, n % 2 === 0);
              break;
            case 6:
              await channel.addMembers([user]);
              break;
            case 7:
              await channel.removeMembers([user]);
              break;
            case 8:
              await channel.addModerators([user]);
              break;
          }
        } catch (error) {
          const status = (error as { response?: { status: number } }).response?.status;
          // A call that lost a race may be refused (the message is gone, the member already there).
          if (status === undefined || status >= 500) failures.push(String(error));
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);

    const carried: V2Line[] = [];
    for (let i = 1; i <= 9; i++) {
      const next = await exportV2('messaging:busy', cursor);
      expectNoKeyTwice(next.lines);
      carried.push(...next.lines);
      replica.apply(next.lines);
      cursor = next.cursor;
    }
    writing = false;
    await Promise.all(writers);
    expect(failures).toEqual([]);

    const last = await exportV2('messaging:busy', cursor);
    expectNoKeyTwice(last.lines);
    carried.push(...last.lines);
    replica.apply(last.lines);
    // The chain did carry every kind of change (so the comparison below is not of two empty sets).
    const kinds = new Set(
      carried.map((l) => (l.type === 'tombstone' ? `tombstone:${String(l.data.entity)}` : l.type)),
    );
    for (const kind of [
      'member',
      'message',
      'reaction',
      'tombstone:member',
      'tombstone:message',
      'tombstone:reaction',
    ])
      expect([...kinds]).toContain(kind);
    expect(carried.some((l) => l.type === 'message' && String(l.data.text).startsWith('edited'))).toBe(true);
    expect(carried.some((l) => l.type === 'message' && l.data.deleted_at)).toBe(true);
    await expectReplicaIsTheDatabase(replica, 'messaging:busy');

    // Nothing twice: with no write since, the next export carries nothing but the channel.
    const empty = await exportV2('messaging:busy', last.cursor);
    expect(empty.lines.map((l) => l.type)).toEqual(['channel']);
    expect(empty.result).toMatchObject({ messages: 0, reactions: 0, members: 0, tombstones: 0 });
  });
});
