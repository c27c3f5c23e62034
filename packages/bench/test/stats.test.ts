import { describe, expect, it } from 'vitest';
import { percentileSorted, summarize } from '../src/stats.js';

describe('percentiles', () => {
  it('nearest rank on sorted data', () => {
    const xs = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentileSorted(xs, 0.5)).toBe(500);
    expect(percentileSorted(xs, 0.99)).toBe(990);
    expect(percentileSorted(xs, 0.999)).toBe(999);
    expect(percentileSorted([], 0.5)).toBeNull();
    expect(percentileSorted([7], 0.99)).toBe(7);
  });
  it('summarize sorts numerically, not lexically', () => {
    const s = summarize([10, 9, 100, 2]);
    expect(s).toMatchObject({ count: 4, p50: 9, max: 100 });
  });
});
