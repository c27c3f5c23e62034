import { f0, row } from './markdown.js';
import type { ComponentUsage } from './sampler.js';

/** CPU time a component spends per 1,000 changes: its cost, apart from how contended the run was. */
export function cpuMsPerThousand(
  avgCpuPct: number | null | undefined,
  changesPerSecond: number | undefined,
): number | null {
  if (avgCpuPct === null || avgCpuPct === undefined || !changesPerSecond) return null;
  return ((avgCpuPct / 100) * 1000 * 1000) / changesPerSecond;
}

/** The table of what each component spent over a run at `changesPerSecond`. */
export function cpuTable(resources: readonly ComponentUsage[], changesPerSecond: number | undefined): string[] {
  return [
    row(['component', 'avg CPU %', 'CPU ms per 1,000 changes', 'peak RSS MB']),
    row(['---', '---', '---', '---']),
    ...resources.map((x) =>
      row([x.component, f0(x.avgCpuPct), f0(cpuMsPerThousand(x.avgCpuPct, changesPerSecond)), f0(x.peakRssMb)]),
    ),
  ];
}
