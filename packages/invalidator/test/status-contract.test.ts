import { parseInvalidatorStatus } from '@fabric/contracts';
import { create, InvalidationEventSchema, Operation, timestampFromMs } from '@fabric/proto';
import type { RedisClient } from '@fabric/sdk';
import { describe, expect, it } from 'vitest';
import { FreshnessTracker } from '../src/freshness.js';
import { InvalidatorHealth } from '../src/health.js';
import { InvalidatorMetrics } from '../src/metrics.js';
import { invalidatorStatus } from '../src/status.js';

// What /healthz answers, read back the way the control plane reads it: if the two drifted
// apart (a renamed field, seconds for milliseconds), the numbers would come back undefined.
describe('the invalidator status contract', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  const clock = () => now;

  function answer(redisStatus: string) {
    const freshness = new FreshnessTracker(clock);
    const metrics = new InvalidatorMetrics('eu-west', freshness, clock);
    const health = new InvalidatorHealth({ graceMs: 10_000, now: clock });
    metrics.applied(
      create(InvalidationEventSchema, {
        id: 'us-east:0/1:0',
        operation: Operation.UPDATE,
        keys: ['user:1'],
        primaryCommitTime: timestampFromMs(now - 1_250),
      }),
      0,
    );
    const status = invalidatorStatus({
      region: 'eu-west',
      groupId: 'fabric-invalidator-eu-west',
      topic: 'fabric.inval.eu-west',
      redis: { status: redisStatus } as RedisClient,
      metrics,
      freshness,
      health,
      assigned: () => [0],
    });
    return JSON.parse(JSON.stringify(status)) as unknown;
  }

  it('is read back whole by the parser the control plane uses', () => {
    expect(parseInvalidatorStatus(answer('ready'))).toEqual({
      redis: 'up',
      lastAppliedCommitTime: new Date(now - 1_250),
      latencyP50Ms: 1_250,
      latencyP99Ms: 1_250,
    });
  });

  it('says when Redis is down', () => {
    expect(parseInvalidatorStatus(answer('reconnecting')).redis).toBe('down');
  });
});
