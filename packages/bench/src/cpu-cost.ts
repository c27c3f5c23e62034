/** CPU time a component spends per 1,000 changes: its cost, apart from how contended the run was. */
export function cpuMsPerThousand(
  avgCpuPct: number | null | undefined,
  changesPerSecond: number | undefined,
): number | null {
  if (avgCpuPct === null || avgCpuPct === undefined || !changesPerSecond) return null;
  return ((avgCpuPct / 100) * 1000 * 1000) / changesPerSecond;
}
