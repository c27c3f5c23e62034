// The latency run again on a fabric of the home region alone: one PostgreSQL, Kafka, Redis,
// reader and invalidator, i.e. one region's deployment unit with the machine to itself.
// Three regions on two cores measure contention as much as the pipeline; this separates them.
import type { BenchOptions } from '../args.js';
import { invalidatorHealth } from '../fabric-state.js';
import { primeCaches } from '../prime.js';
import type { Progress } from '../progress.js';
import type { HealthzLatency } from '../results.js';
import type { ComponentUsage } from '../sampler.js';
import { startFabric } from '../sandbox.js';
import { openSession, prepareSession } from '../session.js';
import { warmUp } from '../warm-up.js';
import { measureRun, type MeasuredRun } from './measure.js';

export interface SoloResult {
  region: string;
  readyMs: number | null;
  run: MeasuredRun;
  healthz: HealthzLatency;
  resources: ComponentUsage[];
}

/** Ports and state apart from the main fabric, which has stopped by then. */
export const SOLO_PORT_OFFSET = 200;

export async function soloRegion(opts: BenchOptions, stateDir: string, progress: Progress): Promise<SoloResult> {
  const region = opts.regions.split(',')[0]!.trim();
  const dir = `${stateDir}-solo`;
  progress(`solo: starting the fabric with ${region} alone on ports ${opts.portBase + SOLO_PORT_OFFSET}+ in ${dir}`);
  const fabric = await startFabric({ regions: region, portBase: opts.portBase + SOLO_PORT_OFFSET, stateDir: dir });
  const session = await openSession(fabric, opts, dir, progress);
  try {
    await prepareSession(session, primeCaches);
    const endpoints = session.ctx.home;
    await warmUp(session.ctx, 'solo');
    const before = await invalidatorHealth(endpoints);
    progress(`solo: latency run, ${opts.rate} changes/s, batch ${opts.batch}, ${opts.duration} s`);
    session.sampler.reset();
    const run = await measureRun(session.ctx, { rate: opts.rate, batch: opts.batch, durationMs: opts.duration * 1000, label: 'solo' });
    const resources = session.sampler.results();
    const after = await invalidatorHealth(endpoints);
    return { region, readyMs: fabric.readyMs, run, healthz: { before: before?.latencyMs, after: after?.latencyMs }, resources };
  } finally {
    await session.close();
  }
}
