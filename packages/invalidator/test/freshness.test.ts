import { COMMIT_TIME_SKEW_MS } from '@fabric/contracts';
import { describe, expect, it } from 'vitest';
import { FreshnessTracker } from '../src/freshness.js';

describe('FreshnessTracker skew guard', () => {
  it('ignores a commit time ahead of the clock beyond the skew, which would pin freshness at 0', () => {
    let now = 100_000;
    const f = new FreshnessTracker(() => now);
    expect(f.observe(0, 99_000)).toBe(true);
    expect(f.observe(0, now + 3_600_000)).toBe(false);
    expect(f.futureTimesIgnored).toBe(1);
    expect(f.lastAppliedCommitMs()).toBe(99_000);
    now = 110_000;
    // Time keeps passing for the partition: it is 11 s behind, not "fresh" for an hour.
    expect(f.freshnessSeconds()).toBe(11);
  });

  it('accepts a time within the skew (clocks are never exactly equal)', () => {
    const now = 100_000;
    const f = new FreshnessTracker(() => now);
    expect(f.observe(0, now + COMMIT_TIME_SKEW_MS)).toBe(true);
    expect(f.freshnessSeconds()).toBe(0);
  });
});

describe('FreshnessTracker seeding at assignment', () => {
  it('counts a partition assigned but not applied from its assignment, so freshness grows', () => {
    let now = 50_000;
    const f = new FreshnessTracker(() => now);
    f.observe(0, 49_500);
    f.seed([0, 1], new Map());
    expect(f.partitions()).toEqual([
      { partition: 0, lastAppliedCommitMs: 49_500, source: 'applied' },
      { partition: 1, lastAppliedCommitMs: 50_000, source: 'seeded' },
    ]);
    now = 80_000;
    f.observe(0, 79_900);
    // Partition 0 is fresh, partition 1 applied nothing for 30 s: the member is 30 s behind.
    expect(f.freshnessSeconds()).toBe(30);
  });

  it("starts from the previous owner's record, and the first apply replaces the seed even when older", () => {
    const now = 50_000;
    const f = new FreshnessTracker(() => now);
    f.seed([2], new Map([[2, 20_000]]));
    expect(f.lastAppliedCommitMs()).toBe(20_000);
    // The backlog redelivered from the committed offset is older still: that is the truth.
    f.observe(2, 15_000);
    expect(f.lastAppliedCommitMs()).toBe(15_000);
    f.observe(2, 14_000);
    expect(f.lastAppliedCommitMs()).toBe(15_000);
  });

  it('does not seed from a recorded time in the future, nor re-seed a partition it already holds', () => {
    const now = 50_000;
    const f = new FreshnessTracker(() => now);
    f.seed([0], new Map([[0, now + 3_600_000]]));
    expect(f.lastAppliedCommitMs()).toBe(now);
    f.observe(1, 45_000);
    f.seed([0, 1], new Map([[1, 10_000]]));
    expect(f.partitions().find((p) => p.partition === 1)).toEqual({
      partition: 1,
      lastAppliedCommitMs: 45_000,
      source: 'applied',
    });
  });
});
