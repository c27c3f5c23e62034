// Baseline 3 (latency): synchronous DEL in the write path, and Redis pub/sub broadcast,
// at the same rate and batch as the fabric's latency run.
import { SyncDel, PubSub } from '../lib/seed-designs.mjs';
import { summarize, fmtMs } from '../lib/stats.mjs';

export async function seedBaselines(ctx) {
  const { writer, probes, opts, regions, progress } = ctx;
  const durationMs = Math.max(5, Math.floor(opts.duration / 2)) * 1000;
  const out = {};
  for (const p of probes.values()) p.refill = false; // keyspace probes idle; the designs time themselves
  try {
    for (const [name, Design] of [['sync-del', SyncDel], ['pubsub', PubSub]]) {
      const d = new Design(regions);
      await d.open();
      progress(`baseline ${name}: ${opts.rate}/s, batch ${opts.batch}, ${durationMs / 1000} s`);
      const res = await writer.run({ rate: opts.rate, batch: opts.batch, durationMs, afterCommit: d.afterCommit });
      await new Promise((r) => setTimeout(r, 1000));
      out[name] = { achievedRate: res.achievedRate, perRegion: Object.fromEntries([...d.samples].map(([r, s]) => [r, { ...summarize(s), failures: d.failures.get(r) }])) };
      progress(`baseline ${name}: achieved ${res.achievedRate.toFixed(0)}/s; ${Object.entries(out[name].perRegion).map(([r, s]) => `${r} p99 ${fmtMs(s.p99)} ms`).join(', ')}`);
      d.close();
    }
  } finally {
    for (const p of probes.values()) p.refill = true;
  }
  return out;
}
