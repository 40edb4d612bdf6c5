import { describe, expect, it } from 'vitest';
import { lookupBatches } from '../../src/lib/ids.js';

describe('lookup batches', () => {
  it('pads each batch to a power of two with its last id, so lists of any length take a few SQL texts', () => {
    expect(lookupBatches(['a'], 500)).toEqual([['a']]);
    expect(lookupBatches(['a', 'b', 'c'], 500)).toEqual([['a', 'b', 'c', 'c']]);
    expect(lookupBatches(['b', 'a', 'b', 'c', 'd', 'e'], 500)).toEqual([
      ['b', 'a', 'c', 'd', 'e', 'e', 'e', 'e'],
    ]);
    const lengths = new Set<number>();
    for (let n = 1; n <= 500; n++) {
      const ids = Array.from({ length: n }, (_, i) => `id-${i}`);
      const [batch] = lookupBatches(ids, 500);
      expect(new Set(batch)).toEqual(new Set(ids));
      lengths.add(batch!.length);
    }
    expect([...lengths].sort((a, b) => a - b)).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 500]);
  });

  it('splits at the batch size and pads no batch past it', () => {
    const ids = Array.from({ length: 1100 }, (_, i) => `id-${i}`);
    const batches = lookupBatches(ids, 500);
    expect(batches.map((batch) => batch.length)).toEqual([500, 500, 128]);
    expect(batches.flat().filter((id, i, all) => all.indexOf(id) === i)).toEqual(ids);
    expect(lookupBatches([], 500)).toEqual([]);
  });
});
