// The latency run, for the three-region fabric and for the home region alone alike: warm
// up, measure at --rate, with CPU/RSS sampled over the run and each invalidator's own
// latency window before and after it.
import { invalidatorHealth } from '../fabric-state.js';
import type { HealthzLatency } from '../results.js';
import type { ComponentUsage } from '../sampler.js';
import type { BenchSession } from '../session.js';
import { warmUp } from '../warm-up.js';
import { type MeasuredRun, measureRun } from './measure.js';

export interface LatencyPhase {
  run: MeasuredRun;
  resources: ComponentUsage[];
  /** region -> the invalidator's own view */
  healthz: Record<string, HealthzLatency>;
}

/** Told when the measured run begins and ends (after the warm-up), e.g. to read other processes' CPU. */
export interface MeasuredWindow {
  begin(): void;
  end(run: MeasuredRun): void;
}

export async function latencyPhase(
  { ctx, sampler }: BenchSession,
  label: string,
  window?: MeasuredWindow,
): Promise<LatencyPhase> {
  const { regions, opts, progress } = ctx;
  await warmUp(ctx, label);
  const before = new Map(await Promise.all(regions.map(async (r) => [r.region, await invalidatorHealth(r)] as const)));
  progress(`${label}: ${opts.rate} changes/s, batch ${opts.batch}, ${opts.duration} s, measured`);
  sampler.reset();
  window?.begin();
  const run = await measureRun(ctx, { rate: opts.rate, batch: opts.batch, durationMs: opts.duration * 1000, label });
  const resources = sampler.results();
  window?.end(run);
  const healthz = Object.fromEntries(
    await Promise.all(
      regions.map(
        async (r) =>
          [
            r.region,
            { before: before.get(r.region)?.latencyMs, after: (await invalidatorHealth(r))?.latencyMs },
          ] as const,
      ),
    ),
  );
  return { run, resources, healthz };
}
