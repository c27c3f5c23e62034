import { describe, expect, it } from 'vitest';
import type { BenchOptions } from '../src/args.js';
import type { MeasuredRun } from '../src/phases/measure.js';
import type { BenchResults } from '../src/results.js';
import type { ComponentUsage } from '../src/sampler.js';
import { renderTopologies } from '../src/topology-report.js';

const latency = (p50: number, p99: number) => ({
  count: 100,
  p50,
  p99,
  p999: p99,
  max: p99,
  unmatched: 0,
  beforeCommitReturned: 0,
  overlapped: 0,
  refillErrors: 0,
  missed: 0,
  kafkaLagAtEnd: 0,
});

const run = (p99: number): MeasuredRun =>
  ({
    label: 'x',
    rate: 1000,
    batch: 1,
    durationMs: 10_000,
    achievedRate: 1000,
    writeErrors: 0,
    changes: 10_000,
    backlog: [0],
    drainMs: 0,
    perRegion: { 'us-east': latency(5, 20), 'eu-west': latency(8, p99) },
    verdict: { fabricKeptUp: true, primaryKeptUp: true, reason: 'bounded' },
  }) as MeasuredRun;

const usage = (region: string, kind: ComponentUsage['kind'], avgCpuPct: number): ComponentUsage => ({
  component: `${region}/${kind}`,
  region,
  kind,
  avgCpuPct,
  peakRssMb: 100,
});

describe('renderTopologies', () => {
  it('sets the logical run beside the physical one, as ratios, with the replica database cost', () => {
    const R = {
      command: 'npm run bench',
      startedAt: 'now',
      opts: { postgres: 17, rows: 2000 } as BenchOptions,
      readyMs: 10_000,
      latency: run(40),
      // 15 % of a core at 1,000 changes/s is 150 ms per 1,000 changes.
      resources: [usage('us-east', 'postgres', 30), usage('eu-west', 'postgres', 15)],
      steps: { steps: [], fabricMax: 2000, primaryMaxHarness: 4000 },
      logical: {
        replication: 'logical',
        readyMs: 15_000,
        run: run(80),
        resources: [usage('us-east', 'postgres', 30), usage('eu-west', 'postgres', 45)],
        steps: { steps: [], fabricMax: 1000, primaryMaxHarness: 4000 },
      },
    } as BenchResults;
    const md = renderTopologies(R).join('\n');
    expect(md).toContain('| fabric ready (ms) | 10000 | 15000 | 1.50× |');
    expect(md).toContain('| eu-west p50 / p99 ms | 8.0 / 40.0 | 8.0 / 80.0 | 2.00× |');
    expect(md).toContain('| replica PostgreSQL CPU ms per 1,000 changes | 150 | 450 | 3.00× |');
    expect(md).toContain('| keep-up rate, highest sustained step (changes/s) | 2000 | 1000 | 0.50× |');
  });

  it('says when the logical run failed, and says nothing when it was skipped', () => {
    expect(renderTopologies({ logical: { error: 'no standby' } } as BenchResults)).toContain('Failed: no standby');
    expect(renderTopologies({} as BenchResults)).toEqual([]);
  });
});
