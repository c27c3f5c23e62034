// What every phase of a bench run works with.
import type { RegionEndpoints } from '@fabric/sandbox';
import type { BenchOptions } from './args.js';
import type { KafkaLag } from './kafka-lag.js';
import type { RegionProbe } from './probe.js';
import type { Progress } from './progress.js';
import type { Fabric } from './sandbox.js';
import type { Writer } from './writer.js';

export interface BenchContext {
  fabric: Fabric;
  regions: RegionEndpoints[];
  home: RegionEndpoints;
  /** region -> its commit→applied probe */
  probes: Map<string, RegionProbe>;
  writer: Writer;
  kafkaLag: KafkaLag;
  progress: Progress;
  opts: BenchOptions;
  /** absolute --state-dir */
  stateDir: string;
}
