import { sql } from 'kysely';
import type { ReadSession } from '../../database/dialects/read-session.js';
import { mutesOfChannel } from '../channels/channels.mutes.js';
import { membersOf } from '../channels/channels.repository.js';
import type { ChannelExportRequest } from './channel-export.request.js';
import { scopeOf as targetScope, type ExportTarget } from './channel-export.targets.js';
import {
  changedChannelMutes,
  changedMembers,
  changedReactions,
  reactionRanges,
  reactionsIn,
  tombstoneJson,
  tombstonePages,
} from './channel-export.changes.js';
import {
  createUserTable,
  fillUserTable,
  NO_USERS,
  reactionLinesSql,
  v1PageQuery,
} from './channel-export.pages.js';
import {
  MESSAGE_PAGE_SIZE,
  messagesFrom,
  messagesIn,
  pageRanges,
  referencedUserIds,
  UserCache,
  type MessageScope,
  type PageRange,
} from './channel-export.source.js';
import {
  channelJsonV1,
  channelLineV2,
  channelMuteJsonV1,
  channelMuteLineV2,
  memberJsonV1,
  memberLineV2,
  missingUserJson,
  userJson,
  userLineV2,
} from './export-serializers.js';
import type { ExportPosition } from './export-checkpoint.js';
import { linePrefix, LINE_SUFFIX } from './export-lines.js';
import type { ExportSink } from './export-sink.js';
import type { EncodedPage, ExportSqlDialect, PageQuery } from './export-sql.dialects.js';
import { hasReactionsSql, messageLineV2Sql, reactionLineV2Sql } from './export-sql.js';

/** v1 messages a page starts with: each embeds its author, mentions and reactions, so fewer than v2. */
const V1_PAGE_SIZE = 2000;
/** Messages whose reactions a v2 page starts with: a fifth of messages have any, so more of them. */
const REACTION_PAGE_SIZE = 4 * MESSAGE_PAGE_SIZE;
/**
 * Bytes a page aims at. Page sizes adapt towards it, so a channel of unusually large messages is read
 * in smaller pages: what one page holds in memory stays around this, whatever the messages weigh.
 */
const PAGE_TARGET_BYTES = 2 << 20;

/** How much an export carried: reported in the task result. */
export type ExportCounts = {
  channels: number;
  members: number;
  channel_mutes: number;
  messages: number;
  reactions: number;
  users: number;
  /** Incremental exports: the deletes they carry. */
  tombstones?: number;
};

export interface WriteExportArgs {
  /** The export's read session (DatabaseDialect.readSession): pages are encoded on its connections. */
  session: ReadSession;
  /** The export SQL of the session's database. */
  exportSql: ExportSqlDialect;
  appId: number;
  request: ChannelExportRequest;
  targets: ExportTarget[];
  sink: ExportSink;
  signal: AbortSignal;
  /**
   * Where to carry on from (a resumed export): the sink then takes the file from that position on,
   * and the counts start from those given. Default: the start of the file.
   */
  resume?: { position: ExportPosition | null; counts: ExportCounts };
  /** Told after each page, with the position it ended at when known, the counts and the file's length. */
  onPage?: (position: ExportPosition | undefined, counts: ExportCounts, bytes: number) => Promise<void>;
}

/** Writes the whole export file (v1 or v2) into the sink, streaming: memory does not grow with it. */
export async function writeChannelExport(args: WriteExportArgs): Promise<ExportCounts> {
  return args.request.version === 'v2' ? writeV2(args) : writeV1(args);
}

function scopeOf(args: WriteExportArgs, target: ExportTarget): MessageScope {
  return targetScope(args.appId, target, args.request, args.exportSql.changes);
}

/** The channel's members the export carries: all, or those changed in an incremental export. */
async function membersCarried(args: WriteExportArgs, scope: MessageScope) {
  const db = args.session.db;
  return scope.changes
    ? changedMembers(db, args.appId, scope.cid, scope.changes)
    : membersOf(db, args.appId, scope.cid);
}

/**
 * The channel's mutes the export carries: all, expired ones included (stored until unmuted, as Stream
 * keeps them), or those changed in an incremental export. An expiry passing is no write, so no change:
 * each mute's `expires` says until when it holds.
 */
async function mutesCarried(args: WriteExportArgs, scope: MessageScope) {
  const db = args.session.db;
  return scope.changes
    ? changedChannelMutes(db, args.appId, scope.cid, scope.changes)
    : mutesOfChannel(db, args.appId, scope.cid);
}

/** Each tombstone of the channel an incremental export continuing from a mark carries, encoded. */
async function eachTombstone(
  args: WriteExportArgs,
  target: ExportTarget,
  scope: MessageScope,
  take: (json: string) => Promise<void>,
): Promise<number> {
  if (!scope.changes || scope.changes.window.after === null) return 0;
  let count = 0;
  for await (const page of tombstonePages(args.session.db, args.appId, scope.cid, scope.changes)) {
    for (const row of page) {
      await take(tombstoneJson(row, target.channel));
      count++;
    }
  }
  return count;
}

/** The position after a page that ended at `range.through`; none for a channel's last page. */
function positionAfter(
  phase: ExportPosition['phase'],
  target: number,
  range: PageRange,
): ExportPosition | undefined {
  return range.through ? { phase, target, after: range.through } : undefined;
}

/**
 * Encodes every page of a scope with one query each (built by `query` for the page's range) and hands
 * the non-empty ones to `take`, in order. As many pages are encoded at once as the session keeps
 * queries in flight, while the earlier ones are written; a scope of one page is encoded on the
 * session's own connection, without starting any other. Page sizes adapt so a page weighs about
 * PAGE_TARGET_BYTES.
 */
async function forEachPage<Range extends { after?: unknown; through?: unknown }>(
  args: WriteExportArgs,
  ranges: (pageSize: () => number) => AsyncIterable<Range>,
  pageSize: number,
  query: (range: Range) => PageQuery,
  take: (page: { entities: number; body: Buffer; summed: number | null }, range: Range) => Promise<void>,
): Promise<void> {
  const { session, exportSql, signal } = args;
  let size = pageSize;
  const inFlight: Array<{ range: Range; encoded: Promise<EncodedPage> }> = [];
  const settle = async () => {
    const { range, encoded } = inFlight.shift()!;
    const page = await encoded;
    const body = typeof page.body === 'string' ? Buffer.from(page.body, 'utf8') : page.body;
    const bytes = body?.length ?? 0;
    size = Math.max(1, Math.min(pageSize, Math.floor((size * PAGE_TARGET_BYTES) / Math.max(1, bytes))));
    if (body === null || bytes === 0) return;
    await take(
      {
        entities: Number(page.entities),
        body,
        summed: page.summed === null ? null : Number(page.summed),
      },
      range,
    );
  };
  for await (const range of ranges(() => size)) {
    signal.throwIfAborted();
    const compiled = exportSql.page(query(range)).compile(session.db);
    const whole = range.after === undefined && range.through === undefined;
    // A page's columns are text (a count, the body, a sum): read as bytes, the body is never a string.
    const encoded: Promise<EncodedPage> = whole
      ? session.db.executeQuery(compiled).then(({ rows }) => rows[0]!)
      : session.queryBytes(compiled).then(([row]) => {
          const [entities, body, summed] = row!;
          return { entities: entities!.toString(), body: body ?? null, summed: summed?.toString() ?? null };
        });
    // Awaited in order below; until then a failure must not count as unhandled.
    encoded.catch(() => undefined);
    inFlight.push({ range, encoded });
    if (inFlight.length >= session.inFlight) await settle();
  }
  while (inFlight.length > 0) await settle();
}

/** v1: `[{"channel":{..},"members":[..],"channel_mutes":[..],"messages":[..](,"users":[..])}, ...]`. */
async function writeV1(args: WriteExportArgs): Promise<ExportCounts> {
  const table = await createUserTable(args.session);
  try {
    return await writeV1Records(args, table);
  } finally {
    if (table !== NO_USERS) {
      await args.session.everywhere(sql`drop table if exists ${sql.table(table)}`.compile(args.session.db));
    }
  }
}

async function writeV1Records(args: WriteExportArgs, userTable: string): Promise<ExportCounts> {
  const { session, exportSql, appId, request, targets, sink } = args;
  const { db } = session;
  const counts = startingCounts(args);
  const users = new UserCache(db, appId, userJson, missingUserJson);
  const pageQuery = v1PageQuery(exportSql, userTable, request.clearDeletedMessageText);
  // v1 positions are all in a channel's messages: its head is written, and its messages up to one.
  const resume = args.resume?.position ?? null;

  if (!resume) await sink.write('[');
  for (const [index, target] of targets.entries()) {
    if (resume && index < resume.target) continue;
    const resuming = resume !== null && index === resume.target;
    const { channel } = target;
    const scope = scopeOf(args, target);
    const members = await membersCarried(args, scope);
    const mutes = await mutesCarried(args, scope);
    const headUsers = [
      ...members.map((m) => m.user_id),
      ...mutes.map((m) => m.user_id),
      ...(channel.created_by_id ? [channel.created_by_id] : []),
      ...(channel.truncated_by_id ? [channel.truncated_by_id] : []),
    ];
    const channelUsers = new Set(headUsers);
    if (request.exportUsers)
      for (const id of await referencedUserIds(session, exportSql, scope)) channelUsers.add(id);
    await fillUserTable(session, exportSql, userTable, appId, channelUsers);
    await users.load(headUsers);
    const user = (id: string) => users.get(id);
    if (!resuming) {
      await sink.write(
        `${index > 0 ? ',' : ''}{"channel":${channelJsonV1(channel, user)},"members":[${members
          .map((m) => memberJsonV1(m, user(m.user_id)))
          .join(',')}],"channel_mutes":[${mutes
          .map((m) => channelMuteJsonV1(m, user(m.user_id)))
          .join(',')}],"messages":[`,
      );
      counts.channels += 1;
      counts.members += members.length;
      counts.channel_mutes += mutes.length;
    }
    // A resumed channel has messages in the file already: the next page follows a comma.
    let first = !resuming;
    const start = resuming ? resume.after : undefined;
    await forEachPage(
      args,
      (size) => pageRanges(db, scope, size, start),
      V1_PAGE_SIZE,
      (range) => pageQuery(scope, range),
      async (page, range) => {
        if (!first) await sink.write(',');
        first = false;
        await sink.writeBytes(page.body);
        counts.messages += page.entities;
        counts.reactions += page.summed ?? 0;
        await args.onPage?.(positionAfter('messages', index, range), counts, sink.bytes);
      },
    );
    await sink.write(']');
    if (scope.changes?.window.after != null) {
      await sink.write(',"tombstones":[');
      let firstTombstone = true;
      const tombstones = await eachTombstone(args, target, scope, async (json) => {
        await sink.write(firstTombstone ? json : `,${json}`);
        firstTombstone = false;
      });
      counts.tombstones = (counts.tombstones ?? 0) + tombstones;
      await sink.write(']');
    }
    if (request.exportUsers) {
      const ids = [...channelUsers].sort();
      await users.load(ids);
      const list = ids.filter((id) => users.rows.has(id));
      await sink.write(`,"users":[${list.map((id) => user(id)).join(',')}]`);
      counts.users += list.length;
    }
    await sink.write('}');
  }
  await sink.write(']\n');
  await sink.flush();
  return counts;
}

/** Lines in v2 text: JSON escapes every newline inside a value, so each raw one ends a line. */
function countLines(text: Buffer): number {
  let lines = 0;
  for (let at = text.indexOf(10); at !== -1; at = text.indexOf(10, at + 1)) lines++;
  return lines;
}

/** v2: Stream's import lines, in the order of V2_LINE_TYPES (export-lines.ts). */
async function writeV2(args: WriteExportArgs): Promise<ExportCounts> {
  const { exportSql, request, targets, sink } = args;
  const { db } = args.session;
  const counts = startingCounts(args);
  const resume = args.resume?.position ?? null;
  if (!resume) await writeV2Head(args, counts);
  // Where each pass starts: after the resumed position in its own phase, nowhere in the phase before.
  const startOf = (phase: ExportPosition['phase'], index: number) => {
    if (!resume) return { skip: false, after: undefined };
    const order = phase === resume.phase ? 0 : phase === 'messages' ? -1 : 1;
    if (order < 0 || (order === 0 && index < resume.target)) return { skip: true, after: undefined };
    return { skip: false, after: order === 0 && index === resume.target ? resume.after : undefined };
  };
  for (const [index, target] of targets.entries()) {
    const from = startOf('messages', index);
    if (from.skip) continue;
    const scope = scopeOf(args, target);
    const encoded = messageLineV2Sql(exportSql, 'm', target.channel, request.clearDeletedMessageText);
    await forEachPage(
      args,
      (size) => pageRanges(db, scope, size, from.after),
      MESSAGE_PAGE_SIZE,
      (range) => ({
        encoded,
        source: sql`from ${messagesFrom(scope)} where ${messagesIn(scope, range)}`,
        orderBy: 'm.created_at, m.id',
        separator: '',
      }),
      async (page, range) => {
        await sink.writeBytes(page.body);
        counts.messages += page.entities;
        await args.onPage?.(positionAfter('messages', index, range), counts, sink.bytes);
      },
    );
  }
  const reactionLines = reactionLinesSql(exportSql);
  for (const [index, target] of targets.entries()) {
    const from = startOf('reactions', index);
    if (from.skip) continue;
    const scope = scopeOf(args, target);
    if (scope.changes) {
      await writeChangedReactions(args, scope, counts);
      continue;
    }
    await forEachPage(
      args,
      (size) => pageRanges(db, scope, size, from.after),
      REACTION_PAGE_SIZE,
      (range) => ({
        encoded: reactionLines,
        source: sql`from ${messagesFrom(scope)} where ${messagesIn(scope, range)} and ${sql.raw(hasReactionsSql('m'))}`,
        orderBy: 'm.created_at, m.id',
        separator: '',
      }),
      async (page, range) => {
        await sink.writeBytes(page.body);
        counts.reactions += countLines(page.body);
        await args.onPage?.(positionAfter('reactions', index, range), counts, sink.bytes);
      },
    );
  }
  await sink.flush();
  return counts;
}

/**
 * v2 incremental: the channel's reactions changed in the window, by the reactions' own changes index
 * (not every reaction of the changed messages: one added to an old message is carried alone). An
 * incremental export does not resume (channel-export.task.ts), so its pages report no position.
 */
async function writeChangedReactions(
  args: WriteExportArgs,
  scope: MessageScope,
  counts: ExportCounts,
): Promise<void> {
  const changes = scope.changes!;
  const { from } = changedReactions(args.appId, scope.cid, changes);
  const encoded = reactionLineV2Sql(args.exportSql, 'r');
  await forEachPage(
    args,
    () => reactionRanges(args.session.db, args.appId, scope.cid, changes, REACTION_PAGE_SIZE),
    REACTION_PAGE_SIZE,
    (range) => ({
      encoded,
      source: sql`from ${from} where ${reactionsIn(args.appId, scope.cid, changes, range)}`,
      orderBy: 'r.message_id, r.user_id, r.type',
      separator: '',
    }),
    async (page) => {
      await args.sink.writeBytes(page.body);
      counts.reactions += page.entities;
      await args.onPage?.(undefined, counts, args.sink.bytes);
    },
  );
}

/** The counts an attempt starts from: the resumed checkpoint's, or none. */
function startingCounts(args: WriteExportArgs): ExportCounts {
  return args.resume
    ? { ...args.resume.counts }
    : { channels: 0, members: 0, channel_mutes: 0, messages: 0, reactions: 0, users: 0 };
}

/** The lines before the messages: users (with export_users), channels, tombstones, members, mutes. */
async function writeV2Head(args: WriteExportArgs, counts: ExportCounts): Promise<void> {
  const { session, exportSql, appId, request, targets, sink } = args;
  const { db } = session;
  const membersByChannel = new Map<string, Awaited<ReturnType<typeof membersOf>>>();
  const mutesByChannel = new Map<string, Awaited<ReturnType<typeof mutesOfChannel>>>();
  for (const target of targets) {
    const scope = scopeOf(args, target);
    membersByChannel.set(target.channel.cid, await membersCarried(args, scope));
    mutesByChannel.set(target.channel.cid, await mutesCarried(args, scope));
  }

  if (request.exportUsers) {
    // Users come first, so every user a later line names must be known before the messages are
    // written: the database lists the authors, mentions and reactors without sending the messages.
    const ids = new Set<string>();
    for (const target of targets) {
      const { channel } = target;
      for (const m of membersByChannel.get(channel.cid)!) ids.add(m.user_id);
      for (const m of mutesByChannel.get(channel.cid)!) ids.add(m.user_id);
      if (channel.created_by_id) ids.add(channel.created_by_id);
      if (channel.truncated_by_id) ids.add(channel.truncated_by_id);
      for (const id of await referencedUserIds(session, exportSql, scopeOf(args, target))) ids.add(id);
    }
    const users = new UserCache(db, appId, userLineV2, () => '');
    const sorted = [...ids].sort();
    await users.load(sorted);
    for (const id of sorted) {
      if (!users.rows.has(id)) continue;
      await sink.write(users.get(id));
      counts.users += 1;
    }
  }

  for (const { channel } of targets) {
    await sink.write(channelLineV2(channel));
    counts.channels += 1;
  }
  // Deletes before the rest, so that replaying the lines in order ends as the database did: an entity
  // deleted and written again comes back, one written and deleted again does not (its row is gone).
  for (const target of targets) {
    const tombstones = await eachTombstone(args, target, scopeOf(args, target), async (json) => {
      await sink.write(`${linePrefix('tombstone')}${json}${LINE_SUFFIX}`);
    });
    if (target.changes?.after != null) counts.tombstones = (counts.tombstones ?? 0) + tombstones;
  }
  for (const { channel } of targets) {
    const members = membersByChannel.get(channel.cid)!;
    if (members.length > 0) await sink.write(members.map((m) => memberLineV2(m, channel)).join(''));
    counts.members += members.length;
  }
  for (const { channel } of targets) {
    const mutes = mutesByChannel.get(channel.cid)!;
    if (mutes.length > 0) await sink.write(mutes.map((m) => channelMuteLineV2(m, channel)).join(''));
    counts.channel_mutes += mutes.length;
  }
}
