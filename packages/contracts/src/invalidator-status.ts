import { type ContinuityState, parseContinuityState } from './continuity.js';
import { finite, objectOf, time } from './json-fields.js';

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
  lastAppliedCommitTime: string | null;
  freshnessSeconds: number | null;
  latencyMs: { p50: number | null; p99: number | null; count: number };
  applied: number;
  deadLettered: number;
  retries: number;
  partitions: Array<{ partition: number; lastAppliedCommitTime: string }>;
  /** The region's continuity: whether a resync is running, and the newest one. */
  continuity: ContinuityState;
}

/** An invalidator's status as a poller reads it: what the invalidator did not say (or said malformed) is undefined. */
export interface InvalidatorStatusReading {
  redis: 'up' | 'down' | undefined;
  lastAppliedCommitTime: Date | undefined;
  latencyP50Ms: number | undefined;
  latencyP99Ms: number | undefined;
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
    continuity: parseContinuityState(status.continuity),
  };
}
