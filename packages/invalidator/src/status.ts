import type { ContinuityState, InvalidatorStatus } from '@fabric/contracts';
import type { RedisClient } from '@fabric/sdk';
import type { FreshnessTracker } from './freshness.js';
import type { InvalidatorHealth } from './health.js';
import type { InvalidatorMetrics } from './metrics.js';

/** What /healthz answers (the contract the control plane polls for freshness and latency). */
export function invalidatorStatus(deps: {
  region: string;
  groupId: string;
  topic: string;
  redis: RedisClient;
  metrics: InvalidatorMetrics;
  freshness: FreshnessTracker;
  health: InvalidatorHealth;
  assigned: () => number[];
  continuity: () => ContinuityState;
}): InvalidatorStatus {
  const { metrics, freshness, health } = deps;
  const redisUp = deps.redis.status === 'ready';
  health.redisReady(redisUp);
  const verdict = health.verdict();
  const last = freshness.lastAppliedCommitMs();
  const [p50, p99] = metrics.latency.percentiles([0.5, 0.99]);
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
    lastAppliedCommitTime: last === null ? null : new Date(last).toISOString(),
    freshnessSeconds: freshness.freshnessSeconds(),
    latencyMs: { p50: p50 ?? null, p99: p99 ?? null, count: metrics.latency.count },
    ...metrics.totals,
    partitions: freshness
      .partitions()
      .map((p) => ({ partition: p.partition, lastAppliedCommitTime: new Date(p.lastAppliedCommitMs).toISOString() })),
    continuity: deps.continuity(),
  };
}
