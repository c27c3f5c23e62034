import { describe, expect, it } from 'vitest';
import { fetchLingerMs } from '../src/fetch-linger.js';

describe('fetch linger', () => {
  it('holds the next fetch until lingerMs after a small batch arrived', () => {
    expect(fetchLingerMs(3, 500, 2, 10)).toBe(8);
    expect(fetchLingerMs(499, 500, 0, 10)).toBe(10);
  });

  it('fetches at once after a full batch (a backlog), once the linger has passed, or with no linger', () => {
    expect(fetchLingerMs(500, 500, 1, 10)).toBe(0);
    expect(fetchLingerMs(3, 500, 12, 10)).toBe(0);
    expect(fetchLingerMs(3, 500, 1, 0)).toBe(0);
  });
});
