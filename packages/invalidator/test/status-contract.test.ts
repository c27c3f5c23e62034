import { type ContinuityState, parseInvalidatorStatus } from '@fabric/contracts';
import { create, InvalidationEventSchema, Operation, timestampFromMs } from '@fabric/proto';
import type { RedisClient } from '@fabric/sdk';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FreshnessTracker } from '../src/freshness.js';
import { GroupFreshness } from '../src/group-freshness.js';
import { InvalidatorHealth } from '../src/health.js';
import { InvalidatorMetrics } from '../src/metrics.js';
import { continuityOf } from '../src/resync-store.js';
import { invalidatorStatus } from '../src/status.js';

// What /healthz answers, read back the way the control plane reads it: if the two drifted
// apart (a renamed field, seconds for milliseconds), the numbers would come back undefined.
describe('the invalidator status contract', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  const clock = () => now;

  function answer(redisStatus: string, continuity: ContinuityState = { state: 'ok' }) {
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
      group: new GroupFreshness({
        redis: {} as RedisClient,
        topic: 'fabric.inval.eu-west',
        partitions: 1,
        tracker: freshness,
        logger: pino({ level: 'silent' }),
        now: clock,
      }),
      health,
      assigned: () => [0],
      continuity: () => continuity,
    });
    return JSON.parse(JSON.stringify(status)) as unknown;
  }

  it('is read back whole by the parser the control plane uses', () => {
    expect(parseInvalidatorStatus(answer('ready'))).toEqual({
      redis: 'up',
      lastAppliedCommitTime: new Date(now - 1_250),
      latencyP50Ms: 1_250,
      latencyP99Ms: 1_250,
      latencyCount: 1,
      latencyWindowSeconds: 60,
      continuity: { state: 'ok' },
    });
  });

  it('carries a resync under way, and the newest finished one, through to the control plane', () => {
    const running: ContinuityState = {
      state: 'resyncing',
      resyncId: 'eu-west:resync:0/16B3748',
      reason: 'slot-recreated',
      detail: 'slot fabric_eu_west was created again at 0/16B3748',
      startedAt: '2026-01-01T11:59:00.000Z',
      keysDropped: 1_500,
    };
    expect(parseInvalidatorStatus(answer('ready', running)).continuity).toEqual({
      ...running,
      finishedAt: undefined,
    });
    const finished: ContinuityState = {
      ...running,
      state: 'ok',
      finishedAt: '2026-01-01T11:59:42.000Z',
      keysDropped: 2_000,
    };
    expect(parseInvalidatorStatus(answer('ready', finished)).continuity).toEqual(finished);
  });

  it('reports what the runner derives from its saved progress', () => {
    const progress = {
      id: 'eu-west:resync:1',
      reason: 'operator',
      detail: 'asked for',
      state: 'resyncing' as const,
      startedAt: '2026-01-01T11:00:00.000Z',
      keysDropped: 50,
      step: 1,
      node: 0,
      cursor: '1234',
      nodes: '127.0.0.1:6379',
    };
    expect(parseInvalidatorStatus(answer('ready', continuityOf(progress))).continuity).toEqual({
      state: 'resyncing',
      resyncId: 'eu-west:resync:1',
      reason: 'operator',
      detail: 'asked for',
      startedAt: '2026-01-01T11:00:00.000Z',
      keysDropped: 50,
    });
    const done = { ...progress, state: 'done' as const, finishedAt: '2026-01-01T11:05:00.000Z' };
    expect(parseInvalidatorStatus(answer('ready', continuityOf(done))).continuity).toMatchObject({
      state: 'ok',
      finishedAt: '2026-01-01T11:05:00.000Z',
    });
    expect(parseInvalidatorStatus(answer('ready', continuityOf(undefined))).continuity).toEqual({ state: 'ok' });
  });

  it('reads the continuity of a status body that lacks or garbles it as undefined', () => {
    const body = answer('ready') as Record<string, unknown>;
    expect(parseInvalidatorStatus({ ...body, continuity: undefined }).continuity).toBeUndefined();
    expect(parseInvalidatorStatus({ ...body, continuity: { state: 'broken' } }).continuity).toBeUndefined();
    expect(
      parseInvalidatorStatus({
        ...body,
        continuity: { state: 'resyncing', resyncId: 7, startedAt: 'not a time', keysDropped: 'many' },
      }).continuity,
    ).toEqual({
      state: 'resyncing',
      resyncId: undefined,
      reason: undefined,
      detail: undefined,
      startedAt: undefined,
      finishedAt: undefined,
      keysDropped: undefined,
    });
  });

  it('says when Redis is down', () => {
    expect(parseInvalidatorStatus(answer('reconnecting')).redis).toBe('down');
  });
});
