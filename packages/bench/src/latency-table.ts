// The per-region commit → applied table of a latency run, against the targets.
import { row } from './markdown.js';
import type { RegionLatency } from './phases/measure.js';
import { fmtMs } from './stats.js';

const TARGET_HOME = 50;
const TARGET_REPLICA = 100;

export function latencyTable(perRegion: Record<string, RegionLatency>, homeRegion: string | undefined): string {
  const lines = [
    row(['region', 'samples', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'target p99', 'met']),
    row(Array<string>(8).fill('---')),
  ];
  for (const [r, s] of Object.entries(perRegion)) {
    const target = r === homeRegion ? TARGET_HOME : TARGET_REPLICA;
    const met =
      s.p99 !== null && s.p99 <= target ? 'yes' : `no (gap ${fmtMs(s.p99 === null ? null : s.p99 - target)} ms)`;
    lines.push(
      row([
        r + (r === homeRegion ? ' (home)' : ''),
        s.count,
        fmtMs(s.p50),
        fmtMs(s.p99),
        fmtMs(s.p999),
        fmtMs(s.max),
        `≤ ${target}`,
        met,
      ]),
    );
  }
  return lines.join('\n');
}
