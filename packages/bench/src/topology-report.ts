// Physical standbys beside logical replicas, from one bench run: the same rate, rows and
// PostgreSQL major, one fabric after the other on the same machine.
import { cpuMsPerThousand } from './cpu-cost.js';
import { f0, row } from './markdown.js';
import { failed, succeeded } from './phase.js';
import type { MeasuredRun } from './phases/measure.js';
import type { BenchResults } from './results.js';
import type { ComponentUsage } from './sampler.js';
import { fmtMs } from './stats.js';

const ratio = (a: number | null | undefined, b: number | null | undefined): string =>
  a && b ? `${(a / b).toFixed(2)}×` : 'n/a';

/** Mean CPU per 1,000 changes of the non-home regions' PostgreSQL: what following the primary costs a region. */
function replicaPostgresCost(resources: ComponentUsage[], run: MeasuredRun, home: string): number | null {
  const costs = resources
    .filter((c) => c.kind === 'postgres' && c.region !== home)
    .map((c) => cpuMsPerThousand(c.avgCpuPct, run.achievedRate))
    .filter((c): c is number => c !== null);
  return costs.length ? costs.reduce((a, b) => a + b, 0) / costs.length : null;
}

export function renderTopologies(R: BenchResults): string[] {
  if (!R.logical) return [];
  const out = ['## Physical standbys and logical replicas, side by side', ''];
  if (failed(R.logical)) return [...out, `Failed: ${R.logical.error}`, ''];
  const logical = R.logical;
  const physical = R.latency;
  if (!physical || !R.resources) return [...out, 'The physical run did not measure latency; nothing to compare.', ''];
  const home = Object.keys(physical.perRegion)[0]!;
  out.push(
    `Both on PostgreSQL ${R.opts.postgres}, ${physical.rate} changes/s, ${R.opts.rows} rows, one fabric after the other. A standby replays the primary's WAL; a logical replica applies each change through a subscription and writes WAL of its own, which its reader decodes.`,
    '',
    row(['measure', 'physical standbys', 'logical replicas', 'logical / physical']),
    row(['---', '---', '---', '---']),
    row(['fabric ready (ms)', f0(R.readyMs), f0(logical.readyMs), ratio(logical.readyMs, R.readyMs)]),
    row([
      'achieved write rate (changes/s)',
      f0(physical.achievedRate),
      f0(logical.run.achievedRate),
      ratio(logical.run.achievedRate, physical.achievedRate),
    ]),
  );
  for (const region of Object.keys(physical.perRegion)) {
    const p = physical.perRegion[region]!;
    const l = logical.run.perRegion[region];
    out.push(
      row([
        `${region} p50 / p99 ms`,
        `${fmtMs(p.p50)} / ${fmtMs(p.p99)}`,
        `${fmtMs(l?.p50)} / ${fmtMs(l?.p99)}`,
        ratio(l?.p99, p.p99),
      ]),
    );
  }
  const pCost = replicaPostgresCost(R.resources, physical, home);
  const lCost = replicaPostgresCost(logical.resources, logical.run, home);
  out.push(row(['replica PostgreSQL CPU ms per 1,000 changes', f0(pCost), f0(lCost), ratio(lCost, pCost)]));
  const pMax = succeeded(R.steps)?.fabricMax;
  out.push(
    row([
      'keep-up rate, highest sustained step (changes/s)',
      f0(pMax),
      f0(logical.steps.fabricMax),
      ratio(logical.steps.fabricMax, pMax),
    ]),
    '',
  );
  return out;
}
