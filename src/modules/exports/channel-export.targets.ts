import type { Kysely } from 'kysely';
import type { ChannelRow, Database } from '../../database/database.types.js';
import { findChannelsByCids } from '../channels/channels.repository.js';
import type { ChannelExportRequest, ChannelExportSelection } from './channel-export.request.js';
import { messageWindow, type MessageScope } from './channel-export.source.js';
import type { ChangeMarkSql, ChangeWindow } from './export-sql.dialects.js';

/** A channel to export, with the selection (time window) it was asked with. */
export interface ExportTarget {
  channel: ChannelRow;
  selection: ChannelExportSelection;
  /** Incremental exports: the channel's changes to carry (`after` null: all of it, as of `through`). */
  changes?: ChangeWindow;
}

/** A channel named in the request that the file does not carry, and why. */
export interface SkippedChannel {
  cid: string;
  reason: 'soft_deleted' | 'not_found';
}

/**
 * The channels an export carries, in the request's order: soft-deleted ones are left out unless asked
 * for, and ones deleted for good since the request too, both listed as skipped.
 */
export async function resolveTargets(
  db: Kysely<Database>,
  appId: number,
  request: ChannelExportRequest,
): Promise<{ targets: ExportTarget[]; skipped: SkippedChannel[] }> {
  const channels = await findChannelsByCids(
    db,
    appId,
    request.channels.map((c) => c.cid),
  );
  const targets: ExportTarget[] = [];
  const skipped: SkippedChannel[] = [];
  for (const selection of request.channels) {
    const channel = channels.get(selection.cid);
    if (!channel) skipped.push({ cid: selection.cid, reason: 'not_found' });
    else if (channel.deleted_at !== null && !request.includeSoftDeletedChannels) {
      skipped.push({ cid: selection.cid, reason: 'soft_deleted' });
    } else targets.push({ channel, selection });
  }
  return { targets, skipped };
}

/** The messages of a target that the export carries (an incremental one's: those changed). */
export function scopeOf(
  appId: number,
  target: ExportTarget,
  request: ChannelExportRequest,
  changes?: ChangeMarkSql,
): MessageScope {
  return {
    appId,
    cid: target.channel.cid,
    window: messageWindow(target.channel, target.selection, request.includeTruncatedMessages),
    ...(target.changes && changes ? { changes: { window: target.changes, sql: changes } } : {}),
  };
}
