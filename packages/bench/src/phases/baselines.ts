// Baseline 3 (latency): synchronous DEL in the write path, and Redis pub/sub broadcast,
// at the same rate and batch as the fabric's latency run.
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchContext } from '../context.js';
import { PubSub } from '../pubsub.js';
import type { SeedDesignClass } from '../seed-designs.js';
import { fmtMs, type LatencySummary, summarize } from '../stats.js';
import { SyncDel } from '../sync-del.js';

const DESIGNS: ReadonlyArray<readonly [string, SeedDesignClass]> = [
  ['sync-del', SyncDel],
  ['pubsub', PubSub],
];

export interface DesignLatency extends LatencySummary {
  /** keys whose DEL failed */
  failures: number;
}

export interface DesignRun {
  achievedRate: number;
  perRegion: Record<string, DesignLatency>;
}

/** design name -> its run */
export type BaselinesResult = Record<string, DesignRun>;

export async function seedBaselines(ctx: BenchContext): Promise<BaselinesResult> {
  const { writer, opts, regions, progress } = ctx;
  const durationMs = Math.max(5, Math.floor(opts.duration / 2)) * 1000;
  const out: BaselinesResult = {};
  for (const [name, Design] of DESIGNS) {
    const d = new Design(regions);
    await d.open();
    progress(`baseline ${name}: ${opts.rate}/s, batch ${opts.batch}, ${durationMs / 1000} s`);
    const res = await writer.run({ rate: opts.rate, batch: opts.batch, durationMs, afterCommit: d.afterCommit });
    await sleep(1000);
    const run: DesignRun = {
      achievedRate: res.achievedRate,
      perRegion: Object.fromEntries(
        [...d.samples].map(([r, s]) => [r, { ...summarize(s), failures: d.failures.get(r) ?? 0 }]),
      ),
    };
    out[name] = run;
    progress(
      `baseline ${name}: achieved ${res.achievedRate.toFixed(0)}/s; ${Object.entries(run.perRegion)
        .map(([r, s]) => `${r} p99 ${fmtMs(s.p99)} ms`)
        .join(', ')}`,
    );
    d.close();
  }
  return out;
}
