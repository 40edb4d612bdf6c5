import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { copyText } from '../../src/database/dialects/postgres-copy-text.js';
import {
  LineSplitter,
  readLineChunks,
  type ImportInput,
} from '../../src/modules/imports/import-line-reader.js';
import { ImportParser, type ParsedBatch } from '../../src/modules/imports/import-parser.js';
import { parseImportLine, type MessageRecord } from '../../src/modules/imports/import-records.js';

async function linesOf(input: ImportInput): Promise<string[]> {
  const lines: string[] = [];
  for await (const chunk of readLineChunks(input)) lines.push(...chunk);
  return lines;
}

describe('reading lines', () => {
  it('splits a byte stream cut anywhere, even inside a multi-byte character', async () => {
    const text = '\ufeff{"a":"ünï"}\r\n\n{"b":"𝄞"}\n{"c":3}';
    const bytes = Buffer.from(text);
    // Every cut position at once: one byte a chunk.
    const oneByteChunks = Readable.from(Array.from(bytes, (byte) => Buffer.from([byte])));
    expect(await linesOf(oneByteChunks)).toEqual(['{"a":"ünï"}', '', '{"b":"𝄞"}', '{"c":3}']);
    expect(await linesOf(Readable.from([bytes]))).toEqual(['{"a":"ünï"}', '', '{"b":"𝄞"}', '{"c":3}']);
  });

  it('takes each item of a plain iterable as whole lines, with or without a trailing newline', async () => {
    async function* generated() {
      yield 'one';
      yield 'two\n';
      yield 'three\nfour';
    }
    expect(await linesOf(generated())).toEqual(['one', 'two', 'three', 'four']);
    expect(await linesOf(['x', 'y'])).toEqual(['x', 'y']);
  });

  it('resumes from a snapshot of its state taken between any two chunks, as on another thread', () => {
    const bytes = Buffer.from('\ufeff{"a":"ünï"}\r\n\n{"b":"𝄞"}\n{"c":3}');
    const expected = ['{"a":"ünï"}', '', '{"b":"𝄞"}', '{"c":3}'];
    for (let cut = 0; cut <= bytes.length; cut++) {
      const first = new LineSplitter({ itemsAreWholeLines: false });
      const lines = first.push(bytes.subarray(0, cut));
      const second = new LineSplitter(structuredClone(first.snapshot()));
      lines.push(...second.push(bytes.subarray(cut)), ...second.end());
      expect(lines, `cut at ${cut}`).toEqual(expected);
    }
  });

  it('tells how much input it has read', async () => {
    let read = 0;
    for await (const _ of readLineChunks(
      Readable.from([Buffer.from('ab\n'), Buffer.from('c')]),
      (n) => (read += n),
    )) {
      // consume
    }
    expect(read).toBe(4);
  });
});

describe('reading an import line', () => {
  const now = () => 42;
  const parse = (entry: unknown) => parseImportLine(JSON.stringify(entry), 7, 3, now);

  it('puts known fields in columns and the rest, flattened or nested, in custom data', () => {
    const record = parse({
      type: 'message',
      data: {
        id: 'm',
        cid: 'messaging:c',
        user: { id: 'ann', name: 'ignored: users travel by id' },
        text: 'a < b',
        reply_count: 99,
        reaction_counts: { like: 5 },
        mood: 'sunny',
        custom: { weather: 'rain' },
        mentioned_users: ['ben', { id: 'cat' }, 'ben'],
        created_at: '2024-01-01T00:00:00.5Z',
      },
    }) as MessageRecord;
    expect(record.row).toMatchObject({
      app_id: 3,
      id: 'm',
      cid: 'messaging:c',
      user_id: 'ann',
      type: 'regular',
      html: '<p>a &lt; b</p>\n',
      custom: '{"mood":"sunny","weather":"rain"}',
      mentioned_users: '["ben","cat"]',
      reply_count: 0,
      reaction_counts: '{}',
      created_at: Date.parse('2024-01-01T00:00:00.5Z') * 1000,
      updated_at: Date.parse('2024-01-01T00:00:00.5Z') * 1000,
      deleted_at: null,
    });
    expect(record).toMatchObject({ line: 7, createdAtMissing: false, updatedAtMissing: true });
  });

  it('stores a deleted message under its own type, a reply as a reply, and keeps __proto__ as data', () => {
    const deleted = parse({
      type: 'message',
      data: { id: 'm', channel_type: 't', channel_id: 'c', user: 'u', type: 'deleted', parent_id: 'p' },
    });
    expect(deleted.row).toMatchObject({ type: 'reply', parent_id: 'p', deleted_at: 42, created_at: 42 });
    const sneaky = parseImportLine(
      '{"type":"reaction","data":{"message_id":"m","user_id":"u","type":"like","__proto__":{"score":9}}}',
      1,
      1,
      now,
    );
    expect(sneaky.row).toMatchObject({ score: 1, custom: '{"__proto__":{"score":9}}' });
  });

  it('reads timestamps of any precision and zone, the same way the API does', () => {
    const times = [
      '2024-02-29T23:59:59.999999Z',
      '2024-02-29T23:59:59.999999Z',
      '2024-02-29T23:59:59.000001Z',
      '2024-03-01T01:59:59.999999+02:00',
      '2024-02-29T23:59:59Z',
      '2024-02-29t23:59:59.1234567z',
    ].map((created_at) => parse({ type: 'user', data: { id: 'u', created_at } }).row.created_at);
    const second = Date.parse('2024-02-29T23:59:59Z') * 1000;
    expect(times).toEqual([
      second + 999_999,
      second + 999_999,
      second + 1,
      second + 999_999,
      second,
      second + 123_456,
    ]);
    expect(() =>
      parse({ type: 'user', data: { id: 'u', created_at: '2024-02-30T00:00:00.000000Z' } }),
    ).toThrow(/line 7: data.created_at must be an RFC 3339 timestamp/);
    expect(() =>
      parse({ type: 'user', data: { id: 'u', created_at: '2024-02-29T23:59:59.0x1234Z' } }),
    ).toThrow(/data.created_at/);
  });

  it('defaults a member to channel_member, or channel_moderator for an older file’s is_moderator', () => {
    const member = (extra: object) =>
      parse({ type: 'member', data: { channel_type: 't', channel_id: 'c', user_id: 'u', ...extra } }).row;
    expect(member({})).toMatchObject({ cid: 't:c', channel_role: 'channel_member' });
    expect(member({ is_moderator: true })).toMatchObject({ channel_role: 'channel_moderator' });
    expect(member({ channel_role: 'owner', is_moderator: true })).toMatchObject({ channel_role: 'owner' });
  });
});

describe('the parser handed to another thread halfway', () => {
  const entry = (type: string, data: object) => `${JSON.stringify({ type, data })}\n`;
  const text =
    entry('user', { id: 'ann' }) +
    entry('channel', { type: 'messaging', id: 'c', created_by: 'ann' }) +
    Array.from({ length: 40 }, (_, i) =>
      entry('message', { id: `m${i}`, cid: 'messaging:c', user: i % 3 ? 'ann' : 'ben', text: `t${i}` }),
    ).join('') +
    entry('reaction', { message_id: 'm3', user_id: 'ann', type: 'like' }) +
    entry('reaction', { message_id: 'elsewhere', user_id: 'ann', type: 'like' });
  const summary = (batches: ParsedBatch[]) =>
    batches.map((b) => ({
      lines: b.lines,
      last: b.last,
      messages: [...b.batch.messages.keys()],
      pendingUsers: [...b.pending.users.entries()],
      pendingMessages: [...b.pending.messages.entries()],
    }));

  it('gives the same batches and pending references as a parser that never moved', () => {
    const bytes = Buffer.from(text);
    const options = { appId: 1, batchSize: 7, itemsAreWholeLines: false };
    const whole = new ImportParser(options);
    const expected = [...whole.push(bytes), ...whole.end()];
    expect(expected.at(-1)).toMatchObject({ last: true, lines: 44 });
    // Ben and the message "elsewhere" are defined by no line: they wait for the database.
    expect(new Set(expected.flatMap((b) => [...b.pending.users.keys()]))).toEqual(new Set(['ben']));
    expect(expected.flatMap((b) => [...b.pending.messages.keys()])).toEqual(['elsewhere']);
    for (const cut of [1, 100, 333, 1000, bytes.length - 5]) {
      const first = new ImportParser(options);
      const batches = first.push(bytes.subarray(0, cut));
      const moved = new ImportParser(structuredClone(first.snapshot()));
      batches.push(...moved.push(bytes.subarray(cut)), ...moved.end());
      expect(summary(batches), `cut at ${cut}`).toEqual(summary(expected));
    }
  });
});

describe('COPY text for PostgreSQL', () => {
  it('escapes backslashes, tabs and line ends, writes NULL as \\N and refuses NUL', () => {
    const rows = [
      { a: 'plain', b: 1, c: null },
      { a: 'tab\there\nnew\rline \\N \\. back\\slash', b: -2, c: '\\N' },
    ];
    expect([...copyText(rows, ['a', 'b', 'c'])].join('')).toBe(
      'plain\t1\t\\N\n' + 'tab\\there\\nnew\\rline \\\\N \\\\. back\\\\slash\t-2\t\\\\N\n',
    );
    expect(() => [...copyText([{ a: 'a\u0000b' }], ['a'])]).toThrow(/NUL/);
  });
});
