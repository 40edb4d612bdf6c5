import type { Kysely } from 'kysely';
import type { ChannelRow, Database, MessageRow } from '../../database/database.types.js';
import { membersOf } from '../channels/channels.repository.js';
import { reactionsByMessage } from '../reactions/reactions.repository.js';
import type { ChannelExportRequest, ChannelExportSelection } from './channel-export.request.js';
import { messagePages, messageWindow, UserCache, type MessageWindow } from './channel-export.source.js';
import {
  channelJsonV1,
  channelLineV2,
  memberJsonV1,
  memberLineV2,
  messageJsonV1,
  messageLineV2,
  missingUserJson,
  reactionJson,
  reactionLineV2,
  userJson,
  userLineV2,
} from './export-serializers.js';
import type { ExportSink } from './export-sink.js';

/** How much an export carried: reported in the task result. */
export interface ExportCounts {
  channels: number;
  members: number;
  messages: number;
  reactions: number;
  users: number;
}

/** A channel to export, with the selection (time window) it was asked with. */
export interface ExportTarget {
  channel: ChannelRow;
  selection: ChannelExportSelection;
}

export interface WriteExportArgs {
  db: Kysely<Database>;
  appId: number;
  request: ChannelExportRequest;
  targets: ExportTarget[];
  sink: ExportSink;
  signal: AbortSignal;
}

/** Writes the whole export file (v1 or v2) into the sink, streaming: memory does not grow with it. */
export async function writeChannelExport(args: WriteExportArgs): Promise<ExportCounts> {
  return args.request.version === 'v2' ? writeV2(args) : writeV1(args);
}

function referencedUsers(rows: MessageRow[]): Set<string> {
  const ids = new Set<string>();
  for (const row of rows) {
    ids.add(row.user_id);
    if (row.mentioned_users.length > 2)
      for (const id of JSON.parse(row.mentioned_users) as string[]) ids.add(id);
  }
  return ids;
}

function windowOf(target: ExportTarget, request: ChannelExportRequest): MessageWindow {
  return messageWindow(target.channel, target.selection, request.includeTruncatedMessages);
}

/** v1: `[{"channel":{..},"members":[..],"messages":[..](,"users":[..])}, ...]`. */
async function writeV1({
  db,
  appId,
  request,
  targets,
  sink,
  signal,
}: WriteExportArgs): Promise<ExportCounts> {
  const counts: ExportCounts = { channels: 0, members: 0, messages: 0, reactions: 0, users: 0 };
  const users = new UserCache(db, appId, userJson, missingUserJson);
  await sink.write('[');
  for (const [index, target] of targets.entries()) {
    const { channel } = target;
    const channelUsers = new Set<string>();
    const members = await membersOf(db, appId, channel.cid);
    const headUsers = [
      ...members.map((m) => m.user_id),
      ...(channel.created_by_id ? [channel.created_by_id] : []),
      ...(channel.truncated_by_id ? [channel.truncated_by_id] : []),
    ];
    await users.load(headUsers);
    for (const id of headUsers) channelUsers.add(id);
    const user = (id: string) => users.get(id);
    await sink.write(
      `${index > 0 ? ',' : ''}{"channel":${channelJsonV1(channel, user)},"members":[${members
        .map((m) => memberJsonV1(m, user(m.user_id)))
        .join(',')}],"messages":[`,
    );
    counts.channels += 1;
    counts.members += members.length;
    let first = true;
    for await (const page of messagePages(db, appId, channel.cid, windowOf(target, request))) {
      signal.throwIfAborted();
      const reactions = await reactionsByMessage(
        db,
        appId,
        page.map((m) => m.id),
      );
      const ids = referencedUsers(page);
      for (const list of reactions.values()) for (const r of list) ids.add(r.user_id);
      await users.load(ids);
      for (const id of ids) channelUsers.add(id);
      const parts: string[] = [];
      for (const row of page) {
        const list = reactions.get(row.id);
        let reactionsJson = '[]';
        if (list) {
          reactionsJson = `[${list.map((r) => reactionJson(r, user(r.user_id))).join(',')}]`;
          counts.reactions += list.length;
        }
        parts.push(
          messageJsonV1(row, {
            user,
            reactions: reactionsJson,
            clearDeletedText: request.clearDeletedMessageText,
          }),
        );
      }
      await sink.write((first ? '' : ',') + parts.join(','));
      first = false;
      counts.messages += page.length;
    }
    await sink.write(']');
    if (request.exportUsers) {
      const list = [...channelUsers].sort().filter((id) => users.rows.has(id));
      await sink.write(`,"users":[${list.map((id) => user(id)).join(',')}]`);
      counts.users += list.length;
    }
    await sink.write('}');
  }
  await sink.write(']\n');
  await sink.flush();
  return counts;
}

/** v2: Stream's import lines, in the order users, channels, members, messages, reactions. */
async function writeV2({
  db,
  appId,
  request,
  targets,
  sink,
  signal,
}: WriteExportArgs): Promise<ExportCounts> {
  const counts: ExportCounts = { channels: 0, members: 0, messages: 0, reactions: 0, users: 0 };
  const membersByChannel = new Map<string, Awaited<ReturnType<typeof membersOf>>>();
  for (const { channel } of targets)
    membersByChannel.set(channel.cid, await membersOf(db, appId, channel.cid));

  if (request.exportUsers) {
    // Users come first, so every user a later line names must be known before the messages are
    // written: one pass over the messages' authors and mentions, plus the members and reactors.
    const users = new UserCache(db, appId, userLineV2, () => '');
    const ids = new Set<string>();
    for (const target of targets) {
      const { channel } = target;
      for (const m of membersByChannel.get(channel.cid)!) ids.add(m.user_id);
      if (channel.created_by_id) ids.add(channel.created_by_id);
      for await (const page of messagePages(db, appId, channel.cid, windowOf(target, request))) {
        signal.throwIfAborted();
        for (const id of referencedUsers(page)) ids.add(id);
        const reactions = await reactionsByMessage(
          db,
          appId,
          page.map((m) => m.id),
        );
        for (const list of reactions.values()) for (const r of list) ids.add(r.user_id);
      }
    }
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
  for (const { channel } of targets) {
    const members = membersByChannel.get(channel.cid)!;
    if (members.length > 0) await sink.write(members.map((m) => memberLineV2(m, channel)).join(''));
    counts.members += members.length;
  }
  for (const target of targets) {
    for await (const page of messagePages(db, appId, target.channel.cid, windowOf(target, request))) {
      signal.throwIfAborted();
      await sink.write(
        page.map((row) => messageLineV2(row, target.channel, request.clearDeletedMessageText)).join(''),
      );
      counts.messages += page.length;
    }
  }
  for (const target of targets) {
    for await (const page of messagePages(db, appId, target.channel.cid, windowOf(target, request))) {
      signal.throwIfAborted();
      const reactions = await reactionsByMessage(
        db,
        appId,
        page.map((m) => m.id),
      );
      const lines: string[] = [];
      for (const row of page) {
        const list = reactions.get(row.id);
        if (!list) continue;
        for (let i = list.length - 1; i >= 0; i--) lines.push(reactionLineV2(list[i]!));
        counts.reactions += list.length;
      }
      if (lines.length > 0) await sink.write(lines.join(''));
    }
  }
  await sink.flush();
  return counts;
}
