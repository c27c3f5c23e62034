// What every section of BENCHMARKS.md is written with.

/** One Markdown table row. */
export const row = (cells: ReadonlyArray<string | number>): string => `| ${cells.join(' | ')} |`;

/** A whole number, or n/a for what was not measured. */
export const f0 = (v: number | null | undefined): string =>
  v === null || v === undefined || Number.isNaN(v) ? 'n/a' : Number(v).toFixed(0);
