import type { RedisClient } from '@fabric/sdk';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FreshnessTracker } from '../src/freshness.js';
import { GroupFreshness } from '../src/group-freshness.js';
import { InvalidatorHealth } from '../src/health.js';
import { InvalidatorMetrics } from '../src/metrics.js';
import { invalidatorStatus } from '../src/status.js';

const GRACE = 10_000;

function clocked() {
  const clock = { now: 0 };
  const health = new InvalidatorHealth({ graceMs: GRACE, now: () => clock.now });
  return { clock, health };
}

/** A healthy member: joined, Redis ready. */
function running() {
  const c = clocked();
  c.health.consumerState('joined');
  c.health.redisReady(true);
  return c;
}

describe('InvalidatorHealth', () => {
  it('says no once Redis has been unready for longer than the grace period, and yes when it is back', () => {
    const { clock, health } = running();
    expect(health.verdict()).toEqual({ ok: true });
    clock.now = 1_000;
    health.redisReady(false);
    clock.now = 1_000 + GRACE;
    health.redisReady(false); // sampled again: the outage still started at 1 s
    expect(health.verdict()).toEqual({ ok: true });
    clock.now = 1_000 + GRACE + 1;
    expect(health.verdict()).toEqual({ ok: false, detail: 'redis not ready for 10 s' });
    health.redisReady(true);
    expect(health.verdict()).toEqual({ ok: true });
  });

  it('counts a Redis that never came up from the start', () => {
    const { clock, health } = clocked();
    health.consumerState('joined');
    clock.now = GRACE + 1;
    expect(health.verdict()).toEqual({ ok: false, detail: 'redis not ready for 10 s' });
  });

  it('says no at once when the consumer gave up or stopped', () => {
    const failed = running();
    failed.health.consumerState('failed');
    expect(failed.health.verdict()).toEqual({ ok: false, detail: 'kafka consumer gave up' });
    const stopped = running();
    stopped.health.consumerState('stopped');
    expect(stopped.health.verdict()).toEqual({ ok: false, detail: 'kafka consumer stopped' });
  });

  it('gives a starting or restarting consumer the grace period to join its group', () => {
    const { clock, health } = clocked();
    health.redisReady(true);
    health.consumerState('starting');
    clock.now = GRACE;
    expect(health.verdict().ok).toBe(true);
    clock.now = GRACE + 1;
    expect(health.verdict()).toEqual({ ok: false, detail: 'not in its consumer group for 10 s (starting)' });
    health.consumerState('joined');
    expect(health.verdict().ok).toBe(true);
    health.consumerState('restarting');
    clock.now += GRACE + 1;
    expect(health.verdict()).toEqual({ ok: false, detail: 'not in its consumer group for 10 s (restarting)' });
  });

  it('says no while applies keep failing with Redis connected, until one event applies', () => {
    const { clock, health } = running();
    health.applyRetrying();
    clock.now = 5_000;
    health.applyRetrying(); // a later round of the same retries
    clock.now = GRACE + 1;
    expect(health.verdict()).toEqual({ ok: false, detail: 'no event applied for 10 s while retrying' });
    health.applied();
    expect(health.verdict()).toEqual({ ok: true });
  });

  it('names every failing condition', () => {
    const { clock, health } = clocked();
    health.consumerState('restarting');
    clock.now = GRACE + 2_000;
    expect(health.verdict()).toEqual({
      ok: false,
      detail: 'not in its consumer group for 12 s (restarting); redis not ready for 12 s',
    });
  });
});

describe('invalidatorStatus', () => {
  const status = (redis: string, health: InvalidatorHealth, assigned: number[]) => {
    const freshness = new FreshnessTracker();
    return invalidatorStatus({
      region: 'eu-west',
      groupId: 'g',
      topic: 't',
      redis: { status: redis } as RedisClient,
      metrics: new InvalidatorMetrics('eu-west', freshness),
      freshness,
      group: new GroupFreshness({
        redis: {} as RedisClient,
        topic: 't',
        partitions: 2,
        tracker: freshness,
        logger: pino({ level: 'silent' }),
      }),
      health,
      assigned: () => assigned,
      continuity: () => ({ state: 'ok' }),
    });
  };

  it('answers not ok with the reason, keeping every number, once Redis is gone past the grace period', () => {
    const { clock, health } = running();
    expect(status('ready', health, [0, 1])).toMatchObject({ ok: true, redis: 'up', assigned: [0, 1] });
    expect(status('ready', health, [0, 1])).not.toHaveProperty('detail');
    clock.now = 1_000;
    expect(status('reconnecting', health, [0, 1])).toMatchObject({ ok: true, redis: 'down' });
    clock.now = 1_000 + GRACE + 1;
    expect(status('reconnecting', health, [0, 1])).toMatchObject({
      ok: false,
      detail: 'redis not ready for 10 s',
      component: 'invalidator',
      region: 'eu-west',
      redis: 'down',
      assigned: [0, 1],
      lastAppliedCommitTime: null,
      latencyMs: { p50: null, p99: null, count: 0 },
      applied: 0,
      deadLettered: 0,
      retries: 0,
      // Every partition of the topic, whoever holds it; nobody recorded a time yet.
      partitions: [
        { partition: 0, lastAppliedCommitTime: null, source: 'group' },
        { partition: 1, lastAppliedCommitTime: null, source: 'group' },
      ],
    });
  });

  it('stays ok for a member that holds no partitions: a standby in a group with more members than partitions', () => {
    const { clock, health } = running();
    clock.now = 10 * GRACE;
    expect(status('ready', health, [])).toMatchObject({ ok: true, assigned: [] });
  });
});
