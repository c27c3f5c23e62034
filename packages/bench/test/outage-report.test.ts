import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../src/args.js';
import { outageLatencies } from '../src/outage-latencies.js';
import { outageTable, renderOutage } from '../src/outage-report.js';
import type { OutageDesignRun, OutageResult } from '../src/outage-result.js';
import { renderReport } from '../src/report.js';
import type { BenchResults } from '../src/results.js';
import type { LatencySummary } from '../src/stats.js';

const stale = (n: number, sample: number[] = []) => ({
  checked: 2000,
  stale: n,
  missing: 100,
  fresh: 1900 - n,
  sample,
});
const run = (design: OutageDesignRun['design'], extra: Partial<OutageDesignRun> = {}): OutageDesignRun => ({
  design,
  writes: 1400,
  writesWhileDown: 1100,
  keysWrittenWhileDown: 1000,
  failures: 0,
  deadLettered: null,
  downMs: 5300,
  restored: 'rdb',
  kafkaLagAtCount: 0,
  stale: stale(0),
  ...extra,
});

const result: OutageResult = {
  region: 'eu-west',
  keys: 2000,
  rate: 200,
  outageMs: 5000,
  settleMs: 10000,
  runs: [
    run('fabric', {
      failures: 12,
      deadLettered: 40,
      stale: stale(40, [7, 9]),
      replay: { replayed: 40, skipped: 0, notReplayable: 0, matched: 40, drainMs: 300, after: stale(0) },
    }),
    run('sync-del', { failures: 1100, stale: stale(1000) }),
    run('pubsub', { failures: 1098, stale: stale(998), restored: 'written' }),
  ],
};

const lat = (p50: number, p99: number): LatencySummary => ({ count: 10, p50, p99, p999: p99, max: p99, mean: p50 });

describe('outage report', () => {
  it('renders one row per design with failures, DLQ, stale and the replay', () => {
    const t = outageTable(result, { fabric: { p50: 575, p99: 1623 }, 'sync-del': { p50: 2.7, p99: 25.2 } });
    expect(t[0]).toContain('stale after 10 s');
    expect(t).toHaveLength(5);
    expect(t[2]).toBe(
      '| fabric | WAL → reader → Kafka → invalidator (retries, DLQ) | 575 / 1623 | 1100 (1000) | 12 retried apply attempts | 40 | **40** of 2000 (100 not cached) | 0 (replayed 40, skipped 0, not replayable 0) |',
    );
    expect(t[3]).toBe(
      '| sync-del | writer DELs after COMMIT, nothing retries | 2.7 / 25.2 | 1100 (1000) | 1100 failed DELs | — | **1000** of 2000 (100 not cached) | — |',
    );
    expect(t[4]).toContain(
      '| pubsub | writer PUBLISHes, subscriber DELs; fire-and-forget | n/a | 1100 (1000) | 1098 lost PUBLISHes | — | **998** of 2000',
    );
  });

  it('notes samples, a manual restore and the down time', () => {
    const md = renderOutage(result).join('\n');
    expect(md).toContain('fabric: stale e.g. user:7, user:9');
    expect(md).toContain('pubsub: the RDB was not loaded');
    expect(md).toContain('Redis down: fabric 5.3 s, sync-del 5.3 s, pubsub 5.3 s.');
  });

  it('shows a failed replay', () => {
    const r = structuredClone(result);
    r.runs[0]!.replay = {
      replayed: 0,
      skipped: 0,
      notReplayable: 0,
      matched: 0,
      drainMs: null,
      after: stale(40),
      error: 'no control plane',
    };
    expect(outageTable(r)[2]).toContain('replay failed: no control plane');
  });

  it('takes the latencies of the outage region from the latency and baseline runs', () => {
    const R: Pick<BenchResults, 'latency' | 'baselines'> = {
      latency: {
        perRegion: { 'eu-west': { ...lat(575, 1623), unmatched: 0, overlapped: 0, missed: 0, kafkaLagAtEnd: 0 } },
      } as unknown as BenchResults['latency'],
      baselines: { 'sync-del': { achievedRate: 900, perRegion: { 'eu-west': { ...lat(2.7, 25), failures: 0 } } } },
    };
    expect(outageLatencies(R, 'eu-west')).toEqual({
      fabric: { p50: 575, p99: 1623 },
      'sync-del': { p50: 2.7, p99: 25 },
    });
    expect(outageLatencies({ baselines: { error: 'x' } }, 'eu-west')).toEqual({});
  });

  it('is part of the report, or its failure is', () => {
    const base: BenchResults = {
      command: 'npm run bench --',
      opts: parseBenchArgs([]),
      startedAt: 's',
      finishedAt: 'e',
      outage: result,
    };
    expect(renderReport(base)).toContain(
      '## Keys left stale after a Redis outage\n\nFor each design in turn: 2000 keys',
    );
    expect(renderReport({ ...base, outage: { error: 'boom' } })).toContain(
      '## Keys left stale after a Redis outage\n\nFailed: boom',
    );
  });
});
