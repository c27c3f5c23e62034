// Everything one bench run measured: what the report and --json are made of.
import type { InvalidatorStatus } from '@fabric/contracts';
import type { BenchOptions } from './args.js';
import type { MachineInfo } from './machine.js';
import type { OutageResult } from './outage-result.js';
import type { PhaseOutcome } from './phase.js';
import type { BaselinesResult } from './phases/baselines.js';
import type { CatchUpResult } from './phases/catch-up.js';
import type { DebeziumResult } from './phases/debezium.js';
import type { DrainResult } from './phases/drain.js';
import type { KeepUpResult } from './phases/keep-up.js';
import type { KeepUpMaxResult } from './phases/keep-up-max.js';
import type { MeasuredRun } from './phases/measure.js';
import type { SdkResult } from './phases/sdk.js';
import type { SoloResult } from './phases/solo.js';
import type { SourceLimitResult } from './phases/source.js';
import type { StepsResult } from './phases/steps.js';
import type { TopologyResult } from './phases/topology.js';
import type { ProfileResult } from './profile-result.js';
import type { ComponentUsage } from './sampler.js';

/** An invalidator's own /healthz latency window before and after the latency run. */
export interface HealthzLatency {
  before: InvalidatorStatus['latencyMs'] | undefined;
  after: InvalidatorStatus['latencyMs'] | undefined;
}

export interface BenchResults {
  /** the command line, as `npm run bench -- …` */
  command: string;
  opts: BenchOptions;
  startedAt: string;
  /** ms until the sandbox was ready; null when attached */
  readyMs?: number | null;
  machine?: MachineInfo;
  latency?: MeasuredRun;
  /** per component over the latency run */
  resources?: ComponentUsage[];
  /** region -> the invalidator's own view */
  healthz?: Record<string, HealthzLatency>;
  /** pgbench at its maximum with the three regions running, after the latency run */
  keepUpMax?: PhaseOutcome<KeepUpMaxResult>;
  steps?: PhaseOutcome<StepsResult>;
  /** The same fabric with logical replicas instead of physical standbys. */
  logical?: PhaseOutcome<TopologyResult>;
  /** per component over the stepping */
  resourcesSteps?: ComponentUsage[];
  profile?: PhaseOutcome<ProfileResult>;
  source?: PhaseOutcome<SourceLimitResult>;
  baselines?: PhaseOutcome<BaselinesResult>;
  outage?: PhaseOutcome<OutageResult>;
  debezium?: PhaseOutcome<DebeziumResult>;
  /** the read side beside bentocache */
  sdk?: PhaseOutcome<SdkResult>;
  /** a backlog drained by one and two invalidators beside the physical limit */
  drain?: PhaseOutcome<DrainResult>;
  /** the reader draining a WAL backlog from a standing start (--phase catch-up) */
  catchUp?: PhaseOutcome<CatchUpResult>;
  /** the latency run alone (--phase keep-up) */
  keepUp?: PhaseOutcome<KeepUpResult>;
  /** the latency run on the home region alone */
  solo?: PhaseOutcome<SoloResult>;
  finishedAt?: string;
}
