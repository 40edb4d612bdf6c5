/**
 * Rows of every shape for test/shapes/shape-forms.test.ts, chosen to be awkward: escapes and non-ASCII
 * text, custom data holding the v2 form's promoted fields (of the promised type and not), NULL and
 * non-NULL optional columns, deleted messages, replies, times before 1970.
 */
import type { Kysely } from 'kysely';
import { expect } from 'vitest';
import type { Database, TaskRow } from '../../src/database/database.types.js';
import type { Shape } from '../../src/lib/shapes/shape.js';
import { channelMuteShape, channelShape, memberShape } from '../../src/modules/channels/channels.shape.js';
import { messageShape } from '../../src/modules/messages/messages.shape.js';
import { reactionShape } from '../../src/modules/reactions/reactions.shape.js';
import { taskStatusShape } from '../../src/modules/tasks/tasks.shape.js';
import { fullUserShape, missingUserShape, userShape } from '../../src/modules/users/users.shape.js';

type Json = Record<string, unknown>;

export interface ShapeFixture {
  shape: Shape<unknown>;
  /** One description per row. */
  rows: string[];
  store?: (db: Kysely<Database>, appId: number) => Promise<void>;
  /** The row as the database gives it back. */
  read: (db: Kysely<Database>, appId: number, index: number) => Promise<Json>;
  /** The table the SQL encodings read the row from, and the condition naming the row in it. */
  table?: string;
  where: (alias: string, row: Json) => string;
  /** Expectations of this shape's own (beyond the forms agreeing). */
  check?: (row: Json, forms: { v1: Json; v2: Json; line: Json }) => void;
}

const T0 = 1_700_000_000_000_000;
const AWKWARD = "quotes \" \\ / \u0001\t\n café 東京 🎉 \u2028 'single'";

/** Rows of one table, stored with the app's id and read back in order by `key`. */
function tableFixture(
  shape: Shape<unknown>,
  table: keyof Database,
  key: string,
  rows: Array<[string, Json]>,
  check?: ShapeFixture['check'],
  { store = true } = {},
): ShapeFixture {
  return {
    shape,
    rows: rows.map(([description]) => description),
    table,
    where: (alias, row) =>
      `${alias}.app_id = ${row.app_id as number} and ${alias}.${key} = '${String(row[key]).replaceAll("'", "''")}'`,
    async store(db, appId) {
      if (!store) return;
      for (const [, row] of rows)
        await db
          .insertInto(table)
          .values({ app_id: appId, ...row } as never)
          .execute();
    },
    async read(db, appId, index) {
      const value = rows[index]![1][key] as string;
      return (await db
        .selectFrom(table)
        .selectAll()
        .where('app_id', '=', appId)
        .where(key as never, '=', value as never)
        .executeTakeFirstOrThrow()) as Json;
    },
    check,
  };
}

const user = (id: string, extra: Json): Json => ({
  id,
  role: 'user',
  custom: '{}',
  teams: '[]',
  banned: 0,
  created_at: T0,
  updated_at: T0 + 1,
  deleted_at: null,
  deactivated_at: null,
  ...extra,
});

const userRows: Array<[string, Json]> = [
  [
    'custom data with promoted fields',
    user('u-1', {
      role: 'admin',
      teams: '["red","blue"]',
      banned: 1,
      custom: JSON.stringify({
        name: AWKWARD,
        language: 'fr',
        invisible: 'not a boolean',
        blocked_user_ids: ['x'],
        mood: { deep: [1] },
      }),
      deleted_at: T0 + 5,
      created_at: -1_234_567,
    }),
  ],
  ['no custom data', user('u-2', { deactivated_at: T0 + 9 })],
];

export function shapeFixtures(): ShapeFixture[] {
  return [
    tableFixture(userShape as Shape<unknown>, 'users', 'id', userRows, (_row, { v2 }) => {
      if (v2.id !== 'u-1') return;
      expect(v2).toMatchObject({ name: AWKWARD, language: 'fr', invisible: false, blocked_user_ids: ['x'] });
      expect(v2.custom).toEqual({ invisible: 'not a boolean', mood: { deep: [1] } });
    }),
    // The same rows, stored once above: the full user form adds the user's own state.
    tableFixture(
      fullUserShape as Shape<unknown>,
      'users',
      'id',
      userRows,
      (_row, { v1, v2 }) => {
        expect(v2).toMatchObject({ devices: [], unread_count: 0, total_unread_count: 0, mutes: [] });
        // Supplied by the caller (the user's live mutes), in both generations.
        expect(v1.channel_mutes).toEqual({ supplied: 'channel_mutes' });
        expect(v2.channel_mutes).toEqual({ supplied: 'channel_mutes' });
      },
      { store: false },
    ),
    {
      shape: missingUserShape as Shape<unknown>,
      rows: ['a hard-deleted user'],
      where: () => '',
      read: async () => ({ id: "gone 'for' good" }),
      check: (_row, { v1, v2 }) => {
        expect(v1).toEqual({
          id: "gone 'for' good",
          role: 'user',
          teams: [],
          banned: false,
          online: false,
          deleted: true,
        });
        expect(v2.created_at).toBe('0001-01-01T00:00:00.000000Z');
      },
    },
    tableFixture(channelShape as Shape<unknown>, 'channels', 'cid', [
      [
        'every optional column set',
        {
          cid: 'team:c-1',
          type: 'team',
          id: 'c-1',
          created_by_id: 'u-1',
          custom: JSON.stringify({ name: AWKWARD, team: 'red', filter_tags: 'not a list' }),
          member_count: 3,
          frozen: 1,
          disabled: 0,
          created_at: T0,
          updated_at: T0 + 2,
          deleted_at: T0 + 3,
          truncated_at: -5,
          truncated_by_id: 'u-2',
          last_message_at: T0 + 4,
        },
      ],
      [
        'none set',
        {
          cid: 'messaging:c-2',
          type: 'messaging',
          id: 'c-2',
          created_by_id: null,
          custom: '{}',
          member_count: 0,
          frozen: 0,
          disabled: 1,
          created_at: T0,
          updated_at: T0,
          deleted_at: null,
          truncated_at: null,
          truncated_by_id: null,
          last_message_at: null,
        },
      ],
    ]),
    tableFixture(
      memberShape as Shape<unknown>,
      'members',
      'user_id',
      ['owner', 'channel_moderator', 'channel_member', 'custom_role'].map((role, i) => [
        role,
        {
          cid: 'team:c-1',
          user_id: `u-${i + 1}`,
          channel_role: role,
          created_at: T0 + i,
          updated_at: T0 + i,
        },
      ]),
      (row, { v1 }) => {
        const roles: Json = { owner: 'owner', channel_moderator: 'moderator' };
        expect(v1.role).toBe(roles[row.channel_role as string] ?? 'member');
      },
    ),
    tableFixture(
      channelMuteShape as Shape<unknown>,
      'channel_mutes',
      'user_id',
      [
        [
          'until unmuted',
          { user_id: "u'1", cid: 'team:c-1', created_at: T0, updated_at: T0 + 1, expires_at: null },
        ],
        [
          'expiring, before 1970',
          { user_id: 'u-2', cid: 'team:c-1', created_at: -3, updated_at: -2, expires_at: -1 },
        ],
      ],
      (row, { v1, v2, line }) => {
        expect(line.user_id).toBe(row.user_id);
        expect(line).not.toHaveProperty('user');
        expect(v1).not.toHaveProperty('user_id');
        expect(v1.user).toEqual({ id: row.user_id, looked_up: true });
        expect(v2.channel).toEqual({ supplied: 'channel' });
        expect('expires' in line).toBe(row.expires_at !== null);
      },
    ),
    tableFixture(messageShape as Shape<unknown>, 'messages', 'id', [
      [
        'regular, custom data and mentions',
        message('m-1', {
          custom: JSON.stringify({ mood: AWKWARD, restricted_visibility: ['u-2'] }),
          mentioned_users: '["u-2","gone"]',
        }),
      ],
      [
        'a reply shown in the channel, quoting',
        message('m-2', { type: 'reply', parent_id: 'm-1', show_in_channel: 1, quoted_message_id: 'm-1' }),
      ],
      ['soft-deleted', message('m-3', { deleted_at: T0 + 7, pinned: 1, silent: 1, reply_count: 2 })],
    ]),
    tableFixture(reactionShape as Shape<unknown>, 'reactions', 'type', [
      [
        'custom data',
        {
          message_id: 'm-1',
          user_id: 'u-1',
          type: 'like',
          score: 3,
          custom: JSON.stringify({ note: AWKWARD }),
          created_at: T0,
          updated_at: T0 + 1,
        },
      ],
      [
        'none',
        {
          message_id: 'm-1',
          user_id: 'u-2',
          type: 'wow',
          score: 1,
          custom: '{}',
          created_at: -1,
          updated_at: 0,
        },
      ],
    ]),
    tableFixture(taskStatusShape as Shape<unknown>, 'tasks', 'id', [
      ['completed', task('t-1', 'completed')],
      ['waiting', task('t-2', 'waiting')],
    ]),
  ];
}

function message(id: string, extra: Json): Json {
  return {
    id,
    cid: 'team:c-1',
    user_id: 'u-1',
    type: 'regular',
    text: `${AWKWARD} ${id}`,
    html: `<p>${id}</p>\n`,
    parent_id: null,
    show_in_channel: 0,
    quoted_message_id: null,
    attachments: '[{"type":"file","title":"a\\"b"}]',
    mentioned_users: '[]',
    custom: '{}',
    reply_count: 0,
    reaction_counts: '{"like":1}',
    reaction_scores: '{"like":3}',
    pinned: 0,
    silent: 0,
    created_at: T0,
    updated_at: T0 + 1,
    deleted_at: null,
    ...extra,
  };
}

function task(id: string, status: string): Omit<TaskRow, 'app_id'> {
  return {
    id,
    kind: 'export-channels',
    status,
    payload: '{}',
    result: status === 'completed' ? '{"size":1}' : null,
    error: null,
    attempt: 1,
    max_attempts: 5,
    run_after: T0,
    lease_owner: null,
    lease_expires_at: null,
    created_at: T0,
    updated_at: T0 + 1,
    started_at: null,
    finished_at: null,
    file_key: null,
    file_expires_at: null,
    file_deleted_at: null,
    capped: 1,
    progress: status === 'running' ? '{"messages_done":5,"percent":50}' : null,
    checkpoint: null,
  };
}
