// --phase keep-up: the latency run alone (commit → applied per region, CPU per component per
// 1,000 changes), with an optional second pipeline of another build beside it for a CPU
// comparison under the same load (keep-up-baseline.ts).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type PhaseOutcome, runPhase } from '../phase.js';
import type { BenchSession } from '../session.js';
import { type BaselineUsage, KeepUpBaseline } from './keep-up-baseline.js';
import { type KeepUpMaxResult, keepUpAtMax } from './keep-up-max.js';
import { type LatencyPhase, latencyPhase } from './latency.js';

export interface KeepUpResult extends LatencyPhase {
  /** BENCH_KEEPUP_BASELINE's reader and invalidator over the same measured run */
  baseline?: BaselineUsage;
  /** pgbench at its maximum afterwards (the baseline stopped by then) */
  atMax: PhaseOutcome<KeepUpMaxResult>;
  /** the same with the home region's Redis down 10 s in the middle: memory held through an outage at full rate */
  throughOutage: PhaseOutcome<KeepUpMaxResult>;
}

export async function keepUpPhase(session: BenchSession): Promise<KeepUpResult> {
  const { home, stateDir, progress } = session.ctx;
  const packages = process.env.BENCH_KEEPUP_BASELINE;
  const logDir = path.join(stateDir, 'keep-up');
  mkdirSync(logDir, { recursive: true });
  if (packages) progress(`keep-up: a second pipeline of ${packages} beside the sandbox's`);
  const baseline = packages ? await KeepUpBaseline.start(home, path.resolve(packages), logDir) : undefined;
  try {
    let usage: BaselineUsage | undefined;
    const phase = await latencyPhase(
      session,
      'keep-up',
      baseline && {
        begin: () => baseline.begin(),
        end: (run) => {
          usage = baseline.end(run.changes);
        },
      },
    );
    await baseline?.stop();
    const atMax = await runPhase('keep-up at the maximum', progress, () => keepUpAtMax(session.ctx, session.sampler));
    const throughOutage = await runPhase('keep-up through a Redis outage', progress, () =>
      keepUpAtMax(session.ctx, session.sampler, { region: home.region, afterMs: 5_000, downMs: 10_000 }),
    );
    return { ...phase, ...(usage ? { baseline: usage } : {}), atMax, throughOutage };
  } finally {
    await baseline?.stop();
  }
}
