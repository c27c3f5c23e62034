import { type ContinuityState, parseContinuityState } from './continuity.js';
import { finite, objectOf, time } from './json-fields.js';

/**
 * The regional Redis hash where every invalidator of the group records, per partition
 * (field "<topic>:<partition>"), the primary commit time (ms since the epoch) of the newest
 * event it applied there. Any member, whichever one a Service routes the control plane to,
 * reads the whole group's freshness from it, and a new owner of a partition starts from
 * its previous owner's record rather than from nothing.
 */
export const APPLIED_COMMIT_TIMES_KEY = 'fabric:applied-commit-times';

export function appliedCommitTimeField(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/**
 * How far ahead of the invalidator's clock a commit time may be and still count. Beyond it
 * the time is wrong (a primary clock jump, a forged event): counted, it would pin freshness
 * at 0 until the real clock caught up with it.
 */
export const COMMIT_TIME_SKEW_MS = 2_000;

/** The time window the status's latency percentiles cover. */
export const LATENCY_WINDOW_SECONDS = 60;

/** What an invalidator's /healthz answers (503 when not ok); the control plane polls it for freshness and latency. */
export interface InvalidatorStatus {
  ok: boolean;
  /** Why the invalidator is not ok, when it says so. */
  detail?: string;
  component: 'invalidator';
  region: string;
  groupId: string;
  topic: string;
  redis: 'up' | 'down';
  /** Partitions held in the consumer group; empty while (re)joining. */
  assigned: number[];
  /** The group's: the oldest, over every partition of the topic, of the newest commit time applied. */
  lastAppliedCommitTime: string | null;
  freshnessSeconds: number | null;
  /** Over the last `windowSeconds`; p50/p99 null when nothing was applied in it. */
  latencyMs: { p50: number | null; p99: number | null; count: number; windowSeconds: number };
  applied: number;
  deadLettered: number;
  retries: number;
  /**
   * Every partition of the topic: by this member ("this") for those it holds, else as the
   * group recorded it ("group"); null when nobody recorded one yet.
   */
  partitions: Array<{ partition: number; lastAppliedCommitTime: string | null; source: 'this' | 'group' }>;
  /** When the group's records were last read from Redis; null before the first read. */
  groupReadAt: string | null;
  /** Commit times ignored for being ahead of this invalidator's clock by more than the skew. */
  futureCommitTimesIgnored: number;
  /** The region's continuity: whether a resync is running, and the newest one. */
  continuity: ContinuityState;
}

/** An invalidator's status as a poller reads it: what the invalidator did not say (or said malformed) is undefined. */
export interface InvalidatorStatusReading {
  redis: 'up' | 'down' | undefined;
  lastAppliedCommitTime: Date | undefined;
  latencyP50Ms: number | undefined;
  latencyP99Ms: number | undefined;
  latencyCount: number | undefined;
  latencyWindowSeconds: number | undefined;
  continuity: ContinuityState | undefined;
}

export function parseInvalidatorStatus(body: unknown): InvalidatorStatusReading {
  const status = objectOf(body);
  const latency = objectOf(status.latencyMs);
  return {
    redis: status.redis === 'up' || status.redis === 'down' ? status.redis : undefined,
    lastAppliedCommitTime: time(status.lastAppliedCommitTime),
    latencyP50Ms: finite(latency.p50),
    latencyP99Ms: finite(latency.p99),
    latencyCount: finite(latency.count),
    latencyWindowSeconds: finite(latency.windowSeconds),
    continuity: parseContinuityState(status.continuity),
  };
}
