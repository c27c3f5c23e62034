/**
 * The most recent commit→applied latencies, for percentiles in status reports. The
 * Prometheus histogram is the long-term record; this answers "p99 right now" exactly
 * over the last `size` events without bucket interpolation.
 */
export class LatencyWindow {
  private readonly samples: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(size = 4096) {
    this.samples = new Float64Array(size);
  }

  record(ms: number): void {
    this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.samples.length;
    if (this.filled < this.samples.length) this.filled++;
  }

  get count(): number {
    return this.filled;
  }

  /** Nearest-rank percentile, q in (0, 1]; null when nothing was recorded. */
  percentile(q: number): number | null {
    return this.percentiles([q])[0]!;
  }

  /** Several percentiles from one sort of the window. */
  percentiles(qs: readonly number[]): Array<number | null> {
    if (this.filled === 0) return qs.map(() => null);
    const sorted = this.samples.slice(0, this.filled).sort();
    return qs.map((q) => sorted[Math.min(this.filled - 1, Math.max(0, Math.ceil(q * this.filled) - 1))]!);
  }
}
