// One measured run: writes at `rate` for durationMs; per-region commit→applied latency
// from the probes, backlog sampled every second, Kafka lag at the end, then drains.
import { summarize, fmtMs } from '../lib/stats.mjs';
import { judgeStep } from '../lib/stepping.mjs';
import { waitFor } from '../lib/wait.mjs';

export async function measureRun(ctx, { rate, batch, durationMs, label }) {
  const { probes, writer, kafkaLag, progress } = ctx;
  for (const p of probes.values()) p.resetCounters();
  const samples = new Map([...probes.keys()].map((r) => [r, []]));
  const backlog = [];
  let stopped = false;
  const ticker = (async () => {
    let tick = 0;
    while (!stopped) {
      await new Promise((r) => setTimeout(r, 1000));
      if (stopped) break;
      let worst = 0;
      for (const [r, p] of probes) {
        worst = Math.max(worst, p.backlog());
        for (const s of p.takeSamples()) samples.get(r).push(s);
      }
      backlog.push(worst);
      if (++tick % 2 === 0) {
        const parts = [...samples].map(([r, s]) => `${r} p99 ${fmtMs(summarize(s).p99)}ms`).join(', ');
        progress(`${label}: t=${tick}s target ${rate}/s, committed ${writer.changesSoFar ?? '?'}; backlog ${worst}; ${parts}`);
      }
    }
  })();
  let committed = 0;
  const res = await writer.run({
    rate, batch, durationMs,
    onCommit: (ids, names, t) => {
      committed += ids.length;
      writer.changesSoFar = committed;
      for (const p of probes.values()) p.onCommit(ids, names, t);
    },
  });
  stopped = true;
  await ticker;
  const lagAtEnd = {};
  for (const r of probes.keys()) lagAtEnd[r] = await kafkaLag.lag(r);
  // Drain: everything committed should be invalidated everywhere.
  const drainMs = await waitFor(() => [...probes.values()].every((p) => p.backlog(10_000) === 0), 15_000, 50);
  const perRegion = {};
  let worstP99 = 0;
  for (const [r, p] of probes) {
    for (const s of p.takeSamples()) samples.get(r).push(s);
    const sum = summarize(samples.get(r));
    worstP99 = Math.max(worstP99, sum.p99 ?? Infinity);
    perRegion[r] = { ...sum, unmatched: p.unmatched, overlapped: p.overlapped, missed: p.missed + p.pending.size, kafkaLagAtEnd: lagAtEnd[r] };
  }
  const verdict = judgeStep({ target: rate, achieved: res.achievedRate, backlog, p99: Number.isFinite(worstP99) ? worstP99 : null });
  return { label, rate, batch, durationMs, achievedRate: res.achievedRate, writeErrors: res.errors, changes: res.changes, backlog, drainMs, perRegion, verdict };
}
