import type { ContinuityState, InvalidatorStatus } from '@fabric/contracts';
import type { RedisClient } from '@fabric/sdk';
import type { FreshnessTracker } from './freshness.js';
import type { GroupFreshness } from './group-freshness.js';
import type { InvalidatorHealth } from './health.js';
import type { InvalidatorMetrics } from './metrics.js';

/**
 * What /healthz answers (the contract the control plane polls for freshness and latency).
 * Freshness is the group's, so the answer does not depend on which member a Service picked.
 */
export function invalidatorStatus(deps: {
  region: string;
  groupId: string;
  topic: string;
  redis: RedisClient;
  metrics: InvalidatorMetrics;
  freshness: FreshnessTracker;
  group: GroupFreshness;
  health: InvalidatorHealth;
  assigned: () => number[];
  continuity: () => ContinuityState;
  now?: () => number;
}): InvalidatorStatus {
  const { metrics, freshness, health } = deps;
  const now = (deps.now ?? Date.now)();
  const redisUp = deps.redis.status === 'ready';
  health.redisReady(redisUp);
  const verdict = health.verdict();
  const group = deps.group.view();
  const last = group.lastAppliedCommitMs;
  const [p50, p99] = metrics.latency.percentiles([0.5, 0.99]);
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    // 503 once this invalidator cannot do its job; the numbers below still say how far it got.
    ok: verdict.ok,
    ...(verdict.detail === undefined ? {} : { detail: verdict.detail }),
    component: 'invalidator',
    region: deps.region,
    groupId: deps.groupId,
    topic: deps.topic,
    redis: redisUp ? 'up' : 'down',
    assigned: deps.assigned(),
    lastAppliedCommitTime: iso(last),
    freshnessSeconds: last === null ? null : Math.max(0, (now - last) / 1000),
    latencyMs: {
      p50: p50 ?? null,
      p99: p99 ?? null,
      count: metrics.latency.count,
      windowSeconds: metrics.latency.windowMs / 1000,
    },
    ...metrics.totals,
    partitions: group.partitions.map((p) => ({
      partition: p.partition,
      lastAppliedCommitTime: iso(p.lastAppliedCommitMs),
      source: p.source,
    })),
    groupReadAt: iso(group.readAt),
    futureCommitTimesIgnored: freshness.futureTimesIgnored,
    continuity: deps.continuity(),
  };
}
