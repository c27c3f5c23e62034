/**
 * Probabilistic early refresh (XFetch: Vattani, Chierichetti, Lowenstein, "Optimal
 * Probabilistic Cache Stampede Prevention", VLDB 2015). A hit refreshes the key in the
 * background when
 *
 *     now - delta * beta * ln(random) >= expiry
 *
 * where delta is how long the key's load takes and random is uniform in (0, 1]. -ln(random)
 * is exponentially distributed, so the chance grows smoothly as expiry nears and is higher
 * for keys that are slow to load; for a hot key one of its many hits refreshes it shortly
 * before it expires, and the expiry that would have sent every reader to the database
 * never happens. beta > 1 refreshes earlier, < 1 later; 1 is the paper's optimum.
 *
 * Only one refresh per key runs at a time across all processes: the refresher must take
 * the key's fill lease (cache.ts), and a caller that finds it taken just serves its hit.
 */
export function shouldRefreshEarly(input: {
  now: number;
  expiresAt: number;
  deltaMs: number;
  beta: number;
  /** Uniform in (0, 1]; 0 would make ln infinite. */
  random: number;
}): boolean {
  if (!(input.deltaMs > 0) || !(input.random > 0)) return false;
  return input.now - input.deltaMs * input.beta * Math.log(input.random) >= input.expiresAt;
}

/**
 * The delta of XFetch: recent load durations, per key, in this process. The paper stores
 * delta next to the value; keeping it here costs no Redis field and no extra bytes per
 * entry, at the price that a process that never loaded a key uses the average over the keys
 * it did load. The per-key memory is bounded (oldest first out).
 */
export class LoadDurations {
  private readonly byKey = new Map<string, number>();
  private average: number | undefined;

  constructor(private readonly capacity = 10_000) {}

  record(key: string, ms: number): void {
    this.byKey.delete(key);
    this.byKey.set(key, Math.max(1, ms));
    if (this.byKey.size > this.capacity) {
      const oldest = this.byKey.keys().next().value;
      if (oldest !== undefined) this.byKey.delete(oldest);
    }
    // Exponential moving average: recent loads count more, one slow outlier does not stick.
    this.average = this.average === undefined ? ms : this.average * 0.9 + ms * 0.1;
  }

  /** undefined until this process has loaded anything: then there is nothing to go on. */
  deltaMs(key: string): number | undefined {
    return this.byKey.get(key) ?? this.average;
  }
}
