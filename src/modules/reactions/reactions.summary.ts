/**
 * A message's reaction summary: per reaction type, how many reactions it holds (`reaction_counts`) and
 * the sum of their scores (`reaction_scores`), stored as JSON text beside the message. Every path that
 * writes it encodes it here, so the stored text is the same whichever path wrote it (exports copy it
 * into their files byte for byte): compact JSON, types in code-unit order, no type without reactions.
 */
import type { MessageRow } from '../../database/database.types.js';

export interface ReactionTally {
  count: number;
  score: number;
}

/** Tallies by reaction type. A Map, since a type may be any name, `__proto__` included. */
export type ReactionSummary = Map<string, ReactionTally>;

export type StoredReactionSummary = Pick<MessageRow, 'reaction_counts' | 'reaction_scores'>;

export function parseReactionSummary(stored: StoredReactionSummary): ReactionSummary {
  const counts = JSON.parse(stored.reaction_counts) as Record<string, number>;
  const scores = JSON.parse(stored.reaction_scores) as Record<string, number>;
  const summary: ReactionSummary = new Map();
  for (const [type, count] of Object.entries(counts)) {
    summary.set(type, { count, score: Object.hasOwn(scores, type) ? scores[type]! : 0 });
  }
  return summary;
}

/** Counts `reaction` in (`sign` 1) or out of (`sign` -1) the summary. */
export function tallyReaction(
  summary: ReactionSummary,
  reaction: { type: string; score: number },
  sign: 1 | -1,
): void {
  const tally = summary.get(reaction.type) ?? { count: 0, score: 0 };
  summary.set(reaction.type, {
    count: tally.count + sign,
    score: tally.score + sign * reaction.score,
  });
}

export function encodeReactionSummary(summary: ReactionSummary): StoredReactionSummary {
  const types = [...summary.keys()].filter((type) => summary.get(type)!.count > 0).sort();
  // Built by hand: JSON.stringify of an object would put integer-like types ("10") first.
  const encode = (value: (tally: ReactionTally) => number) =>
    `{${types.map((type) => `${JSON.stringify(type)}:${value(summary.get(type)!)}`).join(',')}}`;
  return { reaction_counts: encode((t) => t.count), reaction_scores: encode((t) => t.score) };
}
