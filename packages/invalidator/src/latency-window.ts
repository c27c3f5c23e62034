import { LATENCY_WINDOW_SECONDS } from '@fabric/contracts';

/**
 * Commit→applied latencies of the last `windowMs`, for "p99 right now" in status reports.
 * Time-bucketed (one bucket per `bucketMs`), so an old spike leaves the window once its
 * time has passed, however few events came after it; an idle window reports nothing rather
 * than the last spike. The Prometheus histogram is the long-term record.
 *
 * Each bucket keeps at most `perBucket` samples, a uniform reservoir of its events (the
 * random source is injected for tests), and weights them by how many events they stand
 * for: exact below the cap, a sample above it, at a memory cost fixed whatever the rate.
 */
export interface LatencyWindowOptions {
  windowMs?: number;
  bucketMs?: number;
  perBucket?: number;
  now?: () => number;
  random?: () => number;
}

interface Bucket {
  /** Start of the bucket's interval; -Infinity while unused. */
  start: number;
  seen: number;
  samples: number[];
}

export class LatencyWindow {
  readonly windowMs: number;
  private readonly bucketMs: number;
  private readonly perBucket: number;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly buckets: Bucket[];

  constructor({
    windowMs = LATENCY_WINDOW_SECONDS * 1000,
    bucketMs = 1_000,
    perBucket = 512,
    now = Date.now,
    random = Math.random,
  }: LatencyWindowOptions = {}) {
    if (windowMs % bucketMs !== 0) throw new RangeError('windowMs must be a multiple of bucketMs');
    this.windowMs = windowMs;
    this.bucketMs = bucketMs;
    this.perBucket = perBucket;
    this.now = now;
    this.random = random;
    this.buckets = Array.from({ length: windowMs / bucketMs }, () => ({ start: -Infinity, seen: 0, samples: [] }));
  }

  record(ms: number): void {
    const start = Math.floor(this.now() / this.bucketMs) * this.bucketMs;
    const bucket = this.buckets[(start / this.bucketMs) % this.buckets.length]!;
    if (bucket.start !== start) {
      bucket.start = start;
      bucket.seen = 0;
      bucket.samples = [];
    }
    bucket.seen++;
    if (bucket.samples.length < this.perBucket) bucket.samples.push(ms);
    else {
      // Reservoir sampling: every event of the bucket ends up kept with the same chance.
      const at = Math.floor(this.random() * bucket.seen);
      if (at < this.perBucket) bucket.samples[at] = ms;
    }
  }

  /** Events recorded within the window. */
  get count(): number {
    return this.live().reduce((sum, b) => sum + b.seen, 0);
  }

  /** Nearest-rank percentile, q in (0, 1]; null when nothing was recorded within the window. */
  percentile(q: number): number | null {
    return this.percentiles([q])[0]!;
  }

  /** Several percentiles from one sort of the window. */
  percentiles(qs: readonly number[]): Array<number | null> {
    const weighted = this.live().flatMap((b) => b.samples.map((ms) => ({ ms, weight: b.seen / b.samples.length })));
    if (weighted.length === 0) return qs.map(() => null);
    weighted.sort((a, b) => a.ms - b.ms);
    const total = weighted.reduce((sum, s) => sum + s.weight, 0);
    return qs.map((q) => {
      // The smallest sample whose cumulative weight reaches q of the total (nearest rank).
      const rank = Math.max(Number.MIN_VALUE, q * total);
      let cumulative = 0;
      for (const s of weighted) {
        cumulative += s.weight;
        if (cumulative >= rank - 1e-9) return s.ms;
      }
      return weighted[weighted.length - 1]!.ms;
    });
  }

  private live(): Bucket[] {
    // The current bucket and the ones before it within the window.
    const oldest = Math.floor(this.now() / this.bucketMs) * this.bucketMs - this.windowMs + this.bucketMs;
    return this.buckets.filter((b) => b.start >= oldest);
  }
}
