// Distributions of small counts (loads per stampede trial) for the report. Pure.

export interface CountDistribution {
  trials: number;
  min: number | null;
  median: number | null;
  max: number | null;
  mean: number | null;
  /** value -> how many trials had it, ascending by value */
  histogram: [number, number][];
}

export function distribution(values: readonly number[]): CountDistribution {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const counts = new Map<number, number>();
  for (const v of sorted) counts.set(v, (counts.get(v) ?? 0) + 1);
  return {
    trials: n,
    min: n ? sorted[0]! : null,
    median: n ? sorted[Math.floor((n - 1) / 2)]! : null,
    max: n ? sorted[n - 1]! : null,
    mean: n ? sorted.reduce((a, b) => a + b, 0) / n : null,
    histogram: [...counts.entries()],
  };
}

/** `1×18, 2×2`: value × trials. */
export function formatHistogram(d: CountDistribution): string {
  return d.histogram.map(([v, k]) => `${v}×${k}`).join(', ') || 'n/a';
}

/** ours / theirs, as `0.25×`; n/a when either is missing or theirs is 0. */
export function ratio(ours: number | null | undefined, theirs: number | null | undefined, digits = 2): string {
  if (ours === null || ours === undefined || theirs === null || theirs === undefined || theirs === 0) return 'n/a';
  return `${(ours / theirs).toFixed(digits)}×`;
}
