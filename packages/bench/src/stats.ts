// Percentiles and summaries of latency samples (ms). Pure.

export interface LatencySummary {
  count: number;
  p50: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
  mean: number | null;
}

/** Nearest-rank percentile of an ascending-sorted array; q in [0,1]. null when empty. */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number | null {
  if (sorted.length === 0) return null;
  if (q <= 0) return sorted[0] ?? null;
  if (q >= 1) return sorted[sorted.length - 1] ?? null;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? null;
}

/** Sorts a copy and summarizes: count, p50, p99, p99.9, max, mean. */
export function summarize(samples: Iterable<number>): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  const n = sorted.length;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: n,
    p50: percentileSorted(sorted, 0.5),
    p99: percentileSorted(sorted, 0.99),
    p999: percentileSorted(sorted, 0.999),
    max: n ? (sorted[n - 1] ?? null) : null,
    mean: n ? sum / n : null,
  };
}

/** Formats a ms value for tables. */
export function fmtMs(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return 'n/a';
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}
