import { describe, expect, it } from 'vitest';
import { CommitMatcher, EARLY_WINDOW_MS } from '../src/commit-matcher.js';

describe('commit matcher', () => {
  it('pairs a commit with the next invalidation of its id', () => {
    const m = new CommitMatcher();
    m.committed(1, 100);
    m.committed(2, 105);
    m.invalidated(2, 112);
    m.invalidated(1, 130);
    expect(m.takeSamples()).toEqual([7, 30]);
    expect(m.backlog(200, 10_000)).toBe(0);
  });

  it('claims an invalidation that beat the COMMIT reply as 0 ms instead of waiting for the next write', () => {
    const m = new CommitMatcher();
    m.invalidated(7, 100);
    m.committed(7, 103);
    expect(m.takeSamples()).toEqual([0]);
    expect(m.beforeCommitReturned).toBe(1);
    expect(m.backlog(110, 10_000)).toBe(0);
    // The id's next write is measured normally.
    m.committed(7, 10_000);
    m.invalidated(7, 10_020);
    expect(m.takeSamples()).toEqual([20]);
    expect(m.overlapped).toBe(0);
  });

  it('counts a stray invalidation as unmatched once it is too old to belong to a commit', () => {
    const m = new CommitMatcher();
    m.invalidated(3, 0);
    expect(m.backlog(EARLY_WINDOW_MS + 1, 10_000)).toBe(0);
    expect(m.unmatched).toBe(1);
    m.committed(3, EARLY_WINDOW_MS + 2);
    expect(m.takeSamples()).toEqual([]);
    expect(m.backlog(EARLY_WINDOW_MS + 3, 10_000)).toBe(1);
  });

  it('measures overlapping writes from the first (the cache was stale since then) and expires the unseen', () => {
    const m = new CommitMatcher();
    m.committed(4, 0);
    m.committed(4, 50);
    m.invalidated(4, 80);
    expect(m.takeSamples()).toEqual([80]);
    expect(m.overlapped).toBe(1);
    m.committed(5, 100);
    expect(m.backlog(20_000, 10_000)).toBe(0);
    expect(m.missed).toBe(1);
  });
});
