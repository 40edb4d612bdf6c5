/**
 * The JavaScript encodings of v2 message and reaction lines, derived from the same shapes as the SQL
 * the export writes them with: the reference test/exports and test/imports hold that SQL to. Channel
 * mute lines too, encoded here from the shape with the line's text spelled out, not taken from the
 * writer's export-lines.ts.
 */
import type {
  ChannelMuteRow,
  ChannelRow,
  MessageRow,
  ReactionRow,
} from '../../src/database/database.types.js';
import { jsonEncoder, type JsonEncoder } from '../../src/lib/shapes/shape-json.js';
import { channelMuteShape } from '../../src/modules/channels/channels.shape.js';
import { messageShape } from '../../src/modules/messages/messages.shape.js';
import { reactionShape } from '../../src/modules/reactions/reactions.shape.js';

const messageEncoders = new Map<string, JsonEncoder<MessageRow>>();
const reactionLine = jsonEncoder(reactionShape, 'line', {
  prefix: '{"type":"reaction","data":',
  suffix: '}\n',
});

export function messageLineV2(
  row: MessageRow,
  channel: Pick<ChannelRow, 'type' | 'id'>,
  clearDeletedText: boolean,
): string {
  const key = JSON.stringify([channel.type, channel.id, clearDeletedText]);
  let encode = messageEncoders.get(key);
  if (!encode) {
    encode = jsonEncoder(messageShape, 'line', {
      fixed: { channel_type: channel.type, channel_id: channel.id },
      options: { clearDeletedText },
      prefix: '{"type":"message","data":',
      suffix: '}\n',
    });
    messageEncoders.set(key, encode);
  }
  return encode(row);
}

export function reactionLineV2(row: ReactionRow): string {
  return reactionLine(row);
}

const channelMuteLine = jsonEncoder(channelMuteShape, 'line', {
  supplied: ['channel_type', 'channel_id'],
  prefix: '{"type":"channel_mute","data":',
  suffix: '}\n',
});

export function channelMuteLineV2(row: ChannelMuteRow, channel: Pick<ChannelRow, 'type' | 'id'>): string {
  return channelMuteLine(row, {
    values: { channel_type: JSON.stringify(channel.type), channel_id: JSON.stringify(channel.id) },
  });
}
