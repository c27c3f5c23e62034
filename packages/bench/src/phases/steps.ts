// Max sustained rate: doubles the rate every step until the fabric's lag stops being
// bounded or the primary cannot commit the rate.
import type { BenchContext } from '../context.js';
import { fmtMs } from '../stats.js';
import { nextRate } from '../stepping.js';
import { type MeasuredRun, measureRun } from './measure.js';

export interface StepSpec {
  batch: number;
  stepSeconds: number;
  maxRate: number;
  /** first rate tried, changes/s (default 500) */
  start?: number;
}

export interface StepsResult {
  steps: MeasuredRun[];
  /** highest achieved rate of a step the fabric kept up with (0 if none) */
  fabricMax: number;
  /** highest rate the harness committed in any step */
  primaryMaxHarness: number;
}

/** Worst region's p99 of a run (Infinity when a region saw nothing). */
export const worstP99 = (run: MeasuredRun): number =>
  Math.max(...Object.values(run.perRegion).map((r) => r.p99 ?? Infinity));

export async function stepRates(
  ctx: BenchContext,
  { batch, stepSeconds, maxRate, start = 500 }: StepSpec,
): Promise<StepsResult> {
  const steps: MeasuredRun[] = [];
  let rate: number | null = start;
  while (rate !== null) {
    const run = await measureRun(ctx, { rate, batch, durationMs: stepSeconds * 1000, label: `step ${rate}/s` });
    steps.push(run);
    ctx.progress(
      `step ${rate}/s: achieved ${run.achievedRate.toFixed(0)}/s, worst p99 ${fmtMs(worstP99(run))} ms, ${run.verdict.fabricKeptUp ? 'fabric kept up' : 'fabric fell behind'} (${run.verdict.reason})${run.verdict.primaryKeptUp ? '' : ', primary could not commit the rate'}`,
    );
    rate = nextRate(rate, run.verdict, maxRate);
  }
  const ok = steps.filter((s) => s.verdict.fabricKeptUp);
  const fabricMax = ok.length ? Math.max(...ok.map((s) => s.achievedRate)) : 0;
  const primaryMaxHarness = Math.max(...steps.map((s) => s.achievedRate));
  return { steps, fabricMax, primaryMaxHarness };
}
