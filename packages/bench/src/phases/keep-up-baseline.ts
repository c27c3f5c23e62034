// Hidden dev aid for --phase keep-up: another build's reader and invalidator (e.g. the previous
// commit's dist, BENCH_KEEPUP_BASELINE=<its packages/ directory>) beside the sandbox's own in
// the home region: the reader on a slot, publication and topic of its own (decoding the same
// WAL), the invalidator in a group of its own on the region's topic (applying the same
// records, batched alike). Each sees the same input at the same moments of the shared
// machine as its sandbox counterpart, so their CPU per 1,000 changes compare where a run of
// one build after the other would not. Both invalidators apply to the same Redis
// (idempotent deletes), so the latency figures of such a run are the faster one's: compare
// CPU only.
import path from 'node:path';
import type { RegionEndpoints } from '@fabric/sandbox';
import { processTicks } from '../procstat.js';
import {
  createSideTopics,
  invalidatorScript,
  readerScript,
  regionPartitions,
  sideInvalidatorArgs,
  sideReaderArgs,
  stopSidePipeline,
} from '../side-pipeline.js';
import { startWorker, type Worker } from '../worker-process.js';

const NAME = 'bench_keepup_cmp';
const TOPIC = 'bench.keepup.cmp';
const GROUP = 'bench-keepup-cmp';

export interface BaselineUsage {
  /** the baseline's packages/ directory */
  packages: string;
  readerCpuMsPer1000: number;
  invalidatorCpuMsPer1000: number;
}

/** The second pipeline, started and warm with the sandbox's; measure() brackets the measured run. */
export class KeepUpBaseline {
  private startTicks: number[] = [];
  private stopped: Promise<void> | undefined;

  private constructor(
    private readonly home: RegionEndpoints,
    readonly packages: string,
    private readonly workers: Worker[],
  ) {}

  static async start(home: RegionEndpoints, packages: string, logDir: string): Promise<KeepUpBaseline> {
    await createSideTopics(home, TOPIC, await regionPartitions(home));
    // As the sandbox's reader runs (continuity record in the region's Redis), without --home:
    // one heartbeat writer is enough, and both pipelines decode its rows.
    const reader = startWorker(
      readerScript(packages),
      sideReaderArgs(home, NAME, TOPIC, ['--redis', home.redis.url, '--replication', 'physical']),
      { logFile: path.join(logDir, 'baseline-reader.log') },
    );
    // The region's own topic, in a group of its own: the same records, batched as the
    // sandbox's reader published them, as the sandbox's invalidator gets.
    const invalidator = startWorker(
      invalidatorScript(packages),
      sideInvalidatorArgs(home, home.kafka.topic, home.kafka.deadLetterTopic, GROUP),
      { logFile: path.join(logDir, 'baseline-invalidator.log') },
    );
    return new KeepUpBaseline(home, packages, [reader, invalidator]);
  }

  /** The measured run begins. */
  begin(): void {
    this.startTicks = this.workers.map((w) => processTicks(w.child.pid));
  }

  /** The measured run ended: CPU per 1,000 of the `changes` it committed. */
  end(changes: number): BaselineUsage {
    if (this.workers.some((w) => w.child.exitCode !== null))
      throw new Error(`a baseline process exited during the keep-up run; see its log in the bench state directory`);
    const [reader, invalidator] = this.workers.map(
      (w, i) => (((processTicks(w.child.pid) - (this.startTicks[i] ?? 0)) * 10) / Math.max(1, changes)) * 1000,
    );
    return { packages: this.packages, readerCpuMsPer1000: reader ?? 0, invalidatorCpuMsPer1000: invalidator ?? 0 };
  }

  /** Once, however often asked. */
  stop(): Promise<void> {
    this.stopped ??= stopSidePipeline(this.home, NAME, this.workers);
    return this.stopped;
  }
}
