import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamChat } from 'stream-chat';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/database/database.types.js';
import { testDialects } from '../helpers/databases.js';
import { exportAndDownload, parseV2, type V2Line } from '../helpers/exports.js';
import { channelTruth, expectSameEntities, Replica } from '../helpers/export-replica.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const ids = (prefix: string, count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => `${prefix}${String(from + i).padStart(2, '0')}`);

describe.each(testDialects)('incremental channel exports (%s)', (dialect) => {
  let t: TestServer;
  let client: StreamChat;
  let db: Kysely<Database>;
  let appId: number;

  beforeAll(async () => {
    t = await startTestServer(dialect);
    client = t.app.client;
    db = t.server.context.db;
    appId = t.app.id;
    await client.upsertUsers(ids('u', 12).map((id) => ({ id })));
  });

  afterAll(async () => {
    await t?.close();
  });

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

  async function expectReplicaIsTheDatabase(replica: Replica, cid: string) {
    expectSameEntities(replica, await channelTruth(db, appId, cid), (await exportV2(cid)).lines);
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
  }, 180_000);
});
