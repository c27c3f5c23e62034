import { COMMIT_TIME_SKEW_MS } from '@fabric/contracts';

/** What a partition's time stands for: an event applied, or only its assignment to this member. */
export type FreshnessSource = 'applied' | 'seeded';

/**
 * Newest primary commit time applied, per partition held by this member. The reader sends
 * every heartbeat to every partition, so each assigned partition keeps moving while the
 * application is idle. The freshness is taken from the partition that is furthest behind:
 * the maximum would call a region fresh while one partition is stuck behind a failing batch.
 *
 * A partition assigned but not applied yet counts from its seed (its previous owner's
 * record, or the assignment time): leaving it out would call the member fresh while it
 * has not applied a thing there. A commit time ahead of this clock by more than the skew
 * is ignored: one wrong time would otherwise pin freshness at 0 until the clock caught up.
 */
export class FreshnessTracker {
  private readonly applied = new Map<number, { ms: number; source: FreshnessSource }>();
  private ignored = 0;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly skewMs = COMMIT_TIME_SKEW_MS,
  ) {}

  /** False when the time was ignored for being in the future. */
  observe(partition: number, commitTimeMs: number): boolean {
    if (commitTimeMs > this.now() + this.skewMs) {
      this.ignored++;
      return false;
    }
    const current = this.applied.get(partition);
    // A seed is a lower bound, not a measurement: the first apply replaces it, even when older.
    if (current === undefined || current.source === 'seeded' || commitTimeMs > current.ms)
      this.applied.set(partition, { ms: commitTimeMs, source: 'applied' });
    return true;
  }

  /** After a rebalance, partitions owned by other members stop counting here. */
  retain(partitions: readonly number[]): void {
    for (const p of [...this.applied.keys()]) if (!partitions.includes(p)) this.applied.delete(p);
  }

  /**
   * Newly assigned partitions start from what the group recorded for them, else from now;
   * partitions this member already tracks keep their times.
   */
  seed(partitions: readonly number[], recorded: ReadonlyMap<number, number>): void {
    const now = this.now();
    for (const p of partitions) {
      if (this.applied.has(p)) continue;
      const ms = recorded.get(p);
      // A recorded time in the future is as wrong as an event's; the assignment time is the safe bound.
      this.applied.set(p, {
        ms: ms !== undefined && ms <= now + this.skewMs ? Math.min(ms, now) : now,
        source: 'seeded',
      });
    }
  }

  /** Oldest of the per-partition newest applied commit times; null before anything is held. */
  lastAppliedCommitMs(): number | null {
    if (this.applied.size === 0) return null;
    return Math.min(...[...this.applied.values()].map((v) => v.ms));
  }

  freshnessSeconds(): number | null {
    const last = this.lastAppliedCommitMs();
    return last === null ? null : Math.max(0, (this.now() - last) / 1000);
  }

  /** Times ignored so far for being ahead of this clock beyond the skew. */
  get futureTimesIgnored(): number {
    return this.ignored;
  }

  partitions(): Array<{ partition: number; lastAppliedCommitMs: number; source: FreshnessSource }> {
    return [...this.applied]
      .sort(([a], [b]) => a - b)
      .map(([partition, { ms, source }]) => ({ partition, lastAppliedCommitMs: ms, source }));
  }
}
