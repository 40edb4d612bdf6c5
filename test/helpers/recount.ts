import type { Kysely } from 'kysely';
import type { Database } from '../../src/database/database.types.js';

/**
 * Every stored counter of an app beside a recount of the rows it counts, straight from the database:
 * `reply_count`, `reaction_counts`, `reaction_scores` of each message, `member_count` of each channel.
 * Returns the counters that differ, one line each, `<entity>: <what differs>` (none when all are exact).
 */
export async function countersThatDisagree(db: Kysely<Database>, appId: number): Promise<string[]> {
  const wrong: string[] = [];
  const replies = new Map<string, number>();
  for (const row of await db
    .selectFrom('messages')
    .select(['parent_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('app_id', '=', appId)
    .where('parent_id', 'is not', null)
    .groupBy('parent_id')
    .execute()) {
    replies.set(row.parent_id!, Number(row.n));
  }
  const reactions = new Map<string, { counts: Record<string, number>; scores: Record<string, number> }>();
  for (const row of await db
    .selectFrom('reactions')
    .select(['message_id', 'type'])
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('score').as('score')])
    .where('app_id', '=', appId)
    .groupBy(['message_id', 'type'])
    .execute()) {
    const summary = reactions.get(row.message_id) ?? { counts: {}, scores: {} };
    summary.counts[row.type] = Number(row.n);
    summary.scores[row.type] = Number(row.score);
    reactions.set(row.message_id, summary);
  }
  for (const message of await db
    .selectFrom('messages')
    .select(['id', 'reply_count', 'reaction_counts', 'reaction_scores'])
    .where('app_id', '=', appId)
    .execute()) {
    const expectedReplies = replies.get(message.id) ?? 0;
    if (message.reply_count !== expectedReplies) {
      wrong.push(
        `message ${message.id}: reply_count ${message.reply_count}, replies stored ${expectedReplies}`,
      );
    }
    const expected = reactions.get(message.id) ?? { counts: {}, scores: {} };
    for (const [column, value] of [
      ['reaction_counts', expected.counts],
      ['reaction_scores', expected.scores],
    ] as const) {
      const stored = sorted(JSON.parse(message[column]) as Record<string, number>);
      if (JSON.stringify(stored) !== JSON.stringify(sorted(value))) {
        wrong.push(
          `message ${message.id}: ${column} ${JSON.stringify(stored)}, reactions stored ${JSON.stringify(sorted(value))}`,
        );
      }
    }
  }
  const members = new Map<string, number>();
  for (const row of await db
    .selectFrom('members')
    .select(['cid', (eb) => eb.fn.countAll<number>().as('n')])
    .where('app_id', '=', appId)
    .groupBy('cid')
    .execute()) {
    members.set(row.cid, Number(row.n));
  }
  for (const channel of await db
    .selectFrom('channels')
    .select(['cid', 'member_count'])
    .where('app_id', '=', appId)
    .execute()) {
    const expectedMembers = members.get(channel.cid) ?? 0;
    if (channel.member_count !== expectedMembers) {
      wrong.push(
        `channel ${channel.cid}: member_count ${channel.member_count}, members stored ${expectedMembers}`,
      );
    }
  }
  return wrong;
}

/**
 * Rows that name something no longer stored: replies without their parent, messages and members
 * without their channel, reactions without their message; one line each, `<entity>: <what is missing>`.
 */
export async function rowsLeftBehind(db: Kysely<Database>, appId: number): Promise<string[]> {
  const left: string[] = [];
  const replies = await db
    .selectFrom('messages as reply')
    .leftJoin('messages as parent', (join) =>
      join.onRef('parent.app_id', '=', 'reply.app_id').onRef('parent.id', '=', 'reply.parent_id'),
    )
    .select('reply.id')
    .where('reply.app_id', '=', appId)
    .where('reply.parent_id', 'is not', null)
    .where('parent.id', 'is', null)
    .execute();
  left.push(...replies.map((r) => `reply ${r.id}: without its parent`));
  const messages = await db
    .selectFrom('messages')
    .leftJoin('channels', (join) =>
      join.onRef('channels.app_id', '=', 'messages.app_id').onRef('channels.cid', '=', 'messages.cid'),
    )
    .select(['messages.id', 'messages.cid'])
    .where('messages.app_id', '=', appId)
    .where('channels.cid', 'is', null)
    .execute();
  left.push(...messages.map((m) => `message ${m.id}: in ${m.cid} without its channel`));
  const members = await db
    .selectFrom('members')
    .leftJoin('channels', (join) =>
      join.onRef('channels.app_id', '=', 'members.app_id').onRef('channels.cid', '=', 'members.cid'),
    )
    .select(['members.user_id', 'members.cid'])
    .where('members.app_id', '=', appId)
    .where('channels.cid', 'is', null)
    .execute();
  left.push(...members.map((m) => `member ${m.user_id} of ${m.cid}: without its channel`));
  const reactions = await db
    .selectFrom('reactions')
    .leftJoin('messages', (join) =>
      join
        .onRef('messages.app_id', '=', 'reactions.app_id')
        .onRef('messages.id', '=', 'reactions.message_id'),
    )
    .select(['reactions.message_id', 'reactions.user_id', 'reactions.type'])
    .where('reactions.app_id', '=', appId)
    .where('messages.id', 'is', null)
    .execute();
  left.push(
    ...reactions.map((r) => `reaction on missing message ${r.message_id}: ${r.type} of ${r.user_id}`),
  );
  return left;
}

function sorted(record: Record<string, number>): Array<[string, number]> {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
