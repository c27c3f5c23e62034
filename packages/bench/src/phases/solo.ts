// The latency run again on a fabric of the home region alone: one PostgreSQL, Kafka, Redis,
// reader and invalidator, i.e. one region's deployment unit with the machine to itself.
// Three regions on two cores measure contention as much as the pipeline; this separates them.
import type { BenchOptions } from '../args.js';
import { type PhaseOutcome, runPhase } from '../phase.js';
import { primeCaches } from '../prime.js';
import type { Progress } from '../progress.js';
import type { HealthzLatency } from '../results.js';
import type { ComponentUsage } from '../sampler.js';
import { startFabric } from '../sandbox.js';
import { openSession, prepareSession } from '../session.js';
import { type KeepUpMaxResult, keepUpAtMax } from './keep-up-max.js';
import { latencyPhase } from './latency.js';
import type { MeasuredRun } from './measure.js';

export interface SoloResult {
  region: string;
  readyMs: number | null;
  run: MeasuredRun;
  healthz: HealthzLatency;
  resources: ComponentUsage[];
  /** pgbench at its maximum with this one region running */
  atMax: PhaseOutcome<KeepUpMaxResult>;
}

/** Ports and state apart from the main fabric, which has stopped by then. */
export const SOLO_PORT_OFFSET = 200;

export async function soloRegion(opts: BenchOptions, stateDir: string, progress: Progress): Promise<SoloResult> {
  const region = opts.regions.split(',')[0]!.trim();
  const dir = `${stateDir}-solo`;
  progress(`solo: starting the fabric with ${region} alone on ports ${opts.portBase + SOLO_PORT_OFFSET}+ in ${dir}`);
  const fabric = await startFabric({
    regions: region,
    portBase: opts.portBase + SOLO_PORT_OFFSET,
    stateDir: dir,
    topology: { postgres: opts.postgres, replication: 'physical' },
  });
  const session = await openSession(fabric, opts, dir, progress);
  try {
    await prepareSession(session, primeCaches);
    const { run, resources, healthz } = await latencyPhase(session, 'solo');
    const atMax = await runPhase('solo keep-up at the maximum', progress, () =>
      keepUpAtMax(session.ctx, session.sampler),
    );
    return {
      atMax,
      region,
      readyMs: fabric.readyMs,
      run,
      healthz: healthz[region] ?? { before: undefined, after: undefined },
      resources,
    };
  } finally {
    await session.close();
  }
}
