// Pairs commits of an id with the invalidations seen for it, as latency samples. Pure.

/**
 * An invalidation can reach Redis before the writer's COMMIT reply is processed (the
 * pipeline beats the client's event loop on a loaded machine). Such an early invalidation
 * is held this long for the commit it belongs to; unclaimed, the commit would wait for the
 * id's next write and record that whole interval as its latency.
 */
export const EARLY_WINDOW_MS = 2000;

export class CommitMatcher {
  /** id -> commit time (performance.now()) */
  readonly pending = new Map<number, number>();
  /** id -> time of an invalidation no pending commit claimed */
  private readonly early = new Map<number, number>();
  private samples: number[] = [];
  /** invalidations no commit claimed (within EARLY_WINDOW_MS) */
  unmatched = 0;
  /** commits of an id whose previous commit was still pending */
  overlapped = 0;
  /** invalidations seen before the commit they belong to returned: recorded as 0 ms */
  beforeCommitReturned = 0;
  /** commits not invalidated within the backlog age */
  missed = 0;

  invalidated(id: number, t: number): void {
    const committed = this.pending.get(id);
    if (committed === undefined) {
      this.early.set(id, t);
      return;
    }
    this.samples.push(t - committed);
    this.pending.delete(id);
  }

  committed(id: number, t: number): void {
    const seen = this.early.get(id);
    if (seen !== undefined) {
      this.early.delete(id);
      if (t - seen <= EARLY_WINDOW_MS) {
        this.beforeCommitReturned++;
        this.samples.push(0);
        return;
      }
      this.unmatched++;
    }
    if (this.pending.has(id)) this.overlapped++;
    else this.pending.set(id, t);
  }

  /** Commits not yet invalidated; entries older than maxAgeMs count as missed. */
  backlog(now: number, maxAgeMs: number): number {
    for (const [id, t] of this.pending) {
      if (now - t > maxAgeMs) {
        this.pending.delete(id);
        this.missed++;
      }
    }
    for (const [id, t] of this.early) {
      if (now - t > EARLY_WINDOW_MS) {
        this.early.delete(id);
        this.unmatched++;
      }
    }
    return this.pending.size;
  }

  /** The latency samples (ms) since the last call. */
  takeSamples(): number[] {
    const s = this.samples;
    this.samples = [];
    return s;
  }

  reset(): void {
    this.unmatched = 0;
    this.overlapped = 0;
    this.beforeCommitReturned = 0;
    this.missed = 0;
    this.pending.clear();
    this.early.clear();
    this.samples = [];
  }
}
