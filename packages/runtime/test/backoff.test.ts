import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../src/backoff.js';

describe('backoffDelay', () => {
  it('doubles the ceiling per attempt up to the cap', () => {
    const max = () => 0.999999;
    expect(backoffDelay(1, 100, 5_000, max)).toBe(99);
    expect(backoffDelay(2, 100, 5_000, max)).toBe(199);
    expect(backoffDelay(4, 100, 5_000, max)).toBe(799);
    expect(backoffDelay(30, 100, 5_000, max)).toBe(4_999);
  });

  it('jitters over the whole range, down to zero', () => {
    expect(backoffDelay(5, 100, 5_000, () => 0)).toBe(0);
    const seen = new Set(Array.from({ length: 200 }, () => backoffDelay(6, 100, 5_000)));
    expect(seen.size).toBeGreaterThan(50);
    for (const d of seen) expect(d).toBeLessThan(3_200);
  });
});
