import { describe, expect, it } from 'vitest';
import { countStale, sameValues } from '../src/stale.js';

describe('stale counting', () => {
  const truth = new Map([
    [1, 'a'],
    [2, 'b'],
    [3, 'c'],
    [4, 'd'],
  ]);

  it('counts cached values that differ from the database as stale, misses as missing', () => {
    const c = countStale([1, 2, 3, 4], ['a', 'old', null, 'd'], truth);
    expect(c).toEqual({ checked: 4, stale: 1, missing: 1, fresh: 2, sample: [2] });
  });

  it('a cached row the database no longer has is stale', () => {
    expect(countStale([9], ['x'], truth).stale).toBe(1);
  });

  it('keeps at most five stale ids as a sample', () => {
    const ids = Array.from({ length: 8 }, (_, i) => i + 10);
    const c = countStale(
      ids,
      ids.map(() => 'x'),
      truth,
    );
    expect(c.stale).toBe(8);
    expect(c.sample).toEqual([10, 11, 12, 13, 14]);
  });

  it('refuses misaligned inputs', () => {
    expect(() => countStale([1, 2], ['a'], truth)).toThrow(/2 ids but 1 cached/);
  });

  it('compares a replica with the primary', () => {
    expect(sameValues(truth, new Map(truth))).toBe(true);
    expect(sameValues(truth, new Map([...truth, [5, 'e']]))).toBe(false);
    expect(sameValues(truth, new Map([...truth].map(([k, v]) => [k, k === 2 ? 'x' : v])))).toBe(false);
  });
});
