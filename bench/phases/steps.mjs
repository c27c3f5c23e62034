// Max sustained rate: doubles the rate every step until the fabric's lag stops being
// bounded or the primary cannot commit the rate.
import { measureRun } from './measure.mjs';
import { nextRate } from '../lib/stepping.mjs';
import { fmtMs } from '../lib/stats.mjs';

export async function stepRates(ctx, { batch, stepSeconds, maxRate, start = 500 }) {
  const steps = [];
  let rate = start;
  while (rate !== null) {
    const run = await measureRun(ctx, { rate, batch, durationMs: stepSeconds * 1000, label: `step ${rate}/s` });
    steps.push(run);
    const worst = Math.max(...Object.values(run.perRegion).map((r) => r.p99 ?? Infinity));
    ctx.progress(`step ${rate}/s: achieved ${run.achievedRate.toFixed(0)}/s, worst p99 ${fmtMs(worst)} ms, ${run.verdict.fabricKeptUp ? 'fabric kept up' : 'fabric fell behind'} (${run.verdict.reason})${run.verdict.primaryKeptUp ? '' : ', primary could not commit the rate'}`);
    rate = nextRate(rate, run.verdict, maxRate);
  }
  const ok = steps.filter((s) => s.verdict.fabricKeptUp);
  const fabricMax = ok.length ? Math.max(...ok.map((s) => s.achievedRate)) : 0;
  const primaryMaxHarness = Math.max(...steps.map((s) => s.achievedRate));
  return { steps, fabricMax, primaryMaxHarness };
}
