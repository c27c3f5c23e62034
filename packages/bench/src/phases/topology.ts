// The same fabric with logical replicas instead of physical standbys, on the same
// PostgreSQL major: latency, per-component CPU and keep-up rate, for the report to set
// beside the physical run. Standbys replay WAL in their startup process; a logical replica
// runs apply workers and writes its own WAL, which the replica's reader then decodes.
import type { BenchOptions } from '../args.js';
import { primeCaches } from '../prime.js';
import type { Progress } from '../progress.js';
import type { ComponentUsage } from '../sampler.js';
import { startFabric } from '../sandbox.js';
import { openSession, prepareSession } from '../session.js';
import { latencyPhase } from './latency.js';
import type { MeasuredRun } from './measure.js';
import { type StepsResult, stepRates } from './steps.js';

export interface TopologyResult {
  replication: 'logical';
  readyMs: number | null;
  run: MeasuredRun;
  resources: ComponentUsage[];
  steps: StepsResult;
}

/** Ports and state apart from the other fabrics (main at +0, solo at +200), stopped by then. */
export const LOGICAL_PORT_OFFSET = 400;

export async function logicalTopology(
  opts: BenchOptions,
  stateDir: string,
  progress: Progress,
): Promise<TopologyResult> {
  const dir = `${stateDir}-logical`;
  const portBase = opts.portBase + LOGICAL_PORT_OFFSET;
  progress(`logical replicas: starting the fabric (${opts.regions}) on ports ${portBase}+ in ${dir}`);
  const fabric = await startFabric({
    regions: opts.regions,
    portBase,
    stateDir: dir,
    topology: { postgres: opts.postgres, replication: 'logical' },
  });
  const session = await openSession(fabric, opts, dir, progress);
  try {
    await prepareSession(session, primeCaches);
    const { run, resources } = await latencyPhase(session, 'logical');
    const steps = await stepRates(session.ctx, {
      batch: opts.batch,
      stepSeconds: opts.stepSeconds,
      maxRate: opts.maxRate,
    });
    return {
      replication: 'logical',
      readyMs: fabric.readyMs,
      run,
      resources,
      steps,
    };
  } finally {
    await session.close();
  }
}
