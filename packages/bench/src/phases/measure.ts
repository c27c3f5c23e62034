// One measured run: writes at `rate` for durationMs; per-region commit→applied latency
// from the probes, backlog sampled every second, Kafka lag at the end, then drains.
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchContext } from '../context.js';
import { fmtMs, type LatencySummary, summarize } from '../stats.js';
import { judgeStep, type StepVerdict } from '../stepping.js';
import { waitFor } from '../wait.js';

export interface RunSpec {
  rate: number;
  batch: number;
  durationMs: number;
  /** prefix of the progress lines */
  label: string;
}

export interface RegionLatency extends LatencySummary {
  /** invalidations with no pending commit */
  unmatched: number;
  /** invalidations that arrived before the writer saw its COMMIT return (recorded as 0 ms) */
  beforeCommitReturned: number;
  /** commits of an id whose previous commit was still pending */
  overlapped: number;
  /** commits never seen invalidated (incl. still pending after the drain) */
  missed: number;
  kafkaLagAtEnd: number | null;
}

export interface MeasuredRun {
  label: string;
  rate: number;
  batch: number;
  durationMs: number;
  achievedRate: number;
  writeErrors: number;
  changes: number;
  /** worst region's backlog, once a second */
  backlog: number[];
  /** ms until every region's backlog was empty; null if not within 15 s */
  drainMs: number | null;
  perRegion: Record<string, RegionLatency>;
  verdict: StepVerdict;
}

export async function measureRun(ctx: BenchContext, { rate, batch, durationMs, label }: RunSpec): Promise<MeasuredRun> {
  const { probes, writer, kafkaLag, progress } = ctx;
  for (const p of probes.values()) p.resetCounters();
  const samples = new Map<string, number[]>([...probes.keys()].map((r) => [r, []]));
  const collect = (): void => {
    for (const [r, p] of probes) {
      const into = samples.get(r);
      for (const s of p.takeSamples()) into?.push(s);
    }
  };
  const backlog: number[] = [];
  let committed = 0;
  let stopped = false;
  const ticker = (async () => {
    let tick = 0;
    while (!stopped) {
      await sleep(1000);
      if (stopped) break;
      let worst = 0;
      for (const p of probes.values()) worst = Math.max(worst, p.backlog());
      collect();
      backlog.push(worst);
      if (++tick % 2 === 0) {
        const parts = [...samples].map(([r, s]) => `${r} p99 ${fmtMs(summarize(s).p99)}ms`).join(', ');
        progress(`${label}: t=${tick}s target ${rate}/s, committed ${committed}; backlog ${worst}; ${parts}`);
      }
    }
  })();
  const res = await writer.run({
    rate,
    batch,
    durationMs,
    onCommit: (ids, _names, t) => {
      committed += ids.length;
      for (const p of probes.values()) p.onCommit(ids, t);
    },
  });
  stopped = true;
  await ticker;
  const lagAtEnd: Record<string, number | null> = {};
  for (const r of probes.keys()) lagAtEnd[r] = await kafkaLag.lag(r);
  // Drain: everything committed should be invalidated everywhere.
  const drainMs = await waitFor(() => [...probes.values()].every((p) => p.backlog(10_000) === 0), 15_000, 50);
  collect();
  const perRegion: Record<string, RegionLatency> = {};
  let worstP99 = 0;
  for (const [r, p] of probes) {
    const sum = summarize(samples.get(r) ?? []);
    worstP99 = Math.max(worstP99, sum.p99 ?? Infinity);
    const m = p.matcher;
    perRegion[r] = {
      ...sum,
      unmatched: m.unmatched,
      beforeCommitReturned: m.beforeCommitReturned,
      overlapped: m.overlapped,
      missed: m.missed + m.pending.size,
      kafkaLagAtEnd: lagAtEnd[r] ?? null,
    };
  }
  const verdict = judgeStep({
    target: rate,
    achieved: res.achievedRate,
    backlog,
    p99: Number.isFinite(worstP99) ? worstP99 : null,
  });
  return {
    label,
    rate,
    batch,
    durationMs,
    achievedRate: res.achievedRate,
    writeErrors: res.errors,
    changes: res.changes,
    backlog,
    drainMs,
    perRegion,
    verdict,
  };
}
