// What the outage phase measured (packages/bench/src/phases/outage.ts).
import type { StaleCount } from './stale.js';

export type OutageDesignName = 'fabric' | 'sync-del' | 'pubsub';

export interface DlqReplay {
  replayed: number;
  skipped: number;
  notReplayable: number;
  matched: number;
  /** ms from the replay's end until the region's invalidator had no Kafka lag; null if not within 30 s */
  drainMs: number | null;
  /** stale count after the replay was applied */
  after: StaleCount;
  /** when `fabric dlq replay` failed */
  error?: string;
}

export interface OutageDesignRun {
  design: OutageDesignName;
  /** changes committed while the writer ran (from 1 s before the stop until Redis was back) */
  writes: number;
  /** changes committed while the region's Redis was down */
  writesWhileDown: number;
  /** distinct keys written while the region's Redis was down (upper bound for stale) */
  keysWrittenWhileDown: number;
  /** sync-del: DELs to the down Redis that failed; pubsub: PUBLISHes that failed (lost); fabric: apply retries */
  failures: number;
  /** fabric: events the region's invalidator dead-lettered during the outage */
  deadLettered: number | null;
  /** ms the region's Redis was down (stop returned → start returned and PING answered) */
  downMs: number;
  /** how the pre-outage values came back: loaded from the shutdown RDB, or written back by the bench */
  restored: 'rdb' | 'written';
  /** the region's invalidator Kafka lag when counted (fabric only) */
  kafkaLagAtCount: number | null;
  /** after the settle time */
  stale: StaleCount;
  /** fabric only: `fabric dlq replay`, then counted again */
  replay?: DlqReplay;
}

export interface OutageResult {
  /** the replica region whose Redis was stopped */
  region: string;
  keys: number;
  rate: number;
  outageMs: number;
  settleMs: number;
  runs: OutageDesignRun[];
}
