/**
 * Newest primary commit time applied, per partition. The reader sends every heartbeat to
 * every partition, so each assigned partition keeps moving while the application is idle.
 * The region's freshness is taken from the partition that is furthest behind: the maximum
 * would call a region fresh while one partition is stuck behind a failing batch.
 */
export class FreshnessTracker {
  private readonly applied = new Map<number, number>();

  constructor(private readonly now: () => number = Date.now) {}

  observe(partition: number, commitTimeMs: number): void {
    if (commitTimeMs > (this.applied.get(partition) ?? -Infinity)) this.applied.set(partition, commitTimeMs);
  }

  /** After a rebalance, partitions owned by other members stop counting here. */
  retain(partitions: readonly number[]): void {
    for (const p of [...this.applied.keys()]) if (!partitions.includes(p)) this.applied.delete(p);
  }

  /** Oldest of the per-partition newest applied commit times; null before anything applied. */
  lastAppliedCommitMs(): number | null {
    if (this.applied.size === 0) return null;
    return Math.min(...this.applied.values());
  }

  freshnessSeconds(): number | null {
    const last = this.lastAppliedCommitMs();
    return last === null ? null : Math.max(0, (this.now() - last) / 1000);
  }

  partitions(): Array<{ partition: number; lastAppliedCommitMs: number }> {
    return [...this.applied]
      .sort(([a], [b]) => a - b)
      .map(([partition, lastAppliedCommitMs]) => ({ partition, lastAppliedCommitMs }));
  }
}
