import { sql, type Compilable } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemberRow } from '../../src/database/database.types.js';
import { membersOf } from '../../src/modules/channels/channels.repository.js';
import { testDialects } from '../helpers/databases.js';
import { openTestContext, type TestContext } from '../helpers/test-context.js';

const MEMBERS = 5_000;

describe.each(testDialects)('a channel state reads its page of members by index (%s)', (dialect) => {
  let t: TestContext;
  beforeAll(async () => {
    t = await openTestContext(dialect);
  });
  afterAll(() => t.close());

  it('pages the members of a large channel in join order from members_channel_order', async () => {
    const db = t.context.db;
    const rows: MemberRow[] = Array.from({ length: MEMBERS }, (_, i) => ({
      app_id: 1,
      cid: 'messaging:crowd',
      user_id: `user-${String(i).padStart(5, '0')}`,
      channel_role: 'channel_member',
      // Joined in the reverse of their id order, two at a time, so both columns of the order count.
      created_at: 1_700_000_000_000_000 + Math.floor((MEMBERS - i) / 2),
      updated_at: 1_700_000_000_000_000,
      custom: '{}',
      invited: 0,
      invite_accepted_at: null,
      invite_rejected_at: null,
      pinned_at: null,
      archived_at: null,
      hidden: 0,
      hide_messages_before: null,
      truncated_at: null,
    }));
    for (let i = 0; i < rows.length; i += 500)
      await db
        .insertInto('members')
        .values(rows.slice(i, i + 500))
        .execute();
    if (dialect === 'postgres') await sql`analyze members`.execute(db);

    const page = await membersOf(db, 1, 'messaging:crowd', 3, 2);
    expect(page.map((m) => m.user_id)).toEqual(['user-04998', 'user-04995', 'user-04996']);

    const query = db
      .selectFrom('members')
      .selectAll()
      .where('app_id', '=', 1)
      .where('cid', '=', 'messaging:crowd')
      .orderBy('created_at')
      .orderBy('user_id')
      .limit(100) satisfies Compilable;
    const compiled = query.compile();
    const explain = dialect === 'sqlite' ? 'explain query plan ' : 'explain ';
    const { rows: plan } = await db.executeQuery({
      ...compiled,
      sql: explain + compiled.sql,
    });
    const text = JSON.stringify(plan);
    expect(text).toContain('members_channel_order');
    // SQLite says when it sorts; PostgreSQL plans a Sort node.
    expect(text).not.toMatch(/TEMP B-TREE|Sort/);
  });
});
