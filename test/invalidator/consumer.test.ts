import { HEARTBEAT_KEY } from '@fabric/invalidator';
import { Operation, timestampFromMs } from '@fabric/proto';
import { FabricCache, leaseKey } from '@fabric/sdk';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { decodeDeadLetter, readTopic } from '../cdc/harness.js';
import { cleanup, uniquePrefix } from '../sdk/helpers.js';
import { eventually } from '../support.js';
import { groupLag, type InvalidatorUnderTest, invalidation, invalidatorFor, producerFor } from './harness.js';

/** The real invalidator process between a topic of its own and the region's Redis. */
describe('invalidator consumer', () => {
  const region = inject('endpoints').regions[1]!;
  const prefix = uniquePrefix('consumer');
  let redis: Redis;
  let cache: FabricCache;
  let inv: InvalidatorUnderTest;
  let producer: Awaited<ReturnType<typeof producerFor>>;

  beforeAll(async () => {
    redis = new Redis(region.redis.url);
    cache = new FabricCache(redis, { ttlSeconds: 300, ttlJitter: 0, leaseMs: 5_000, waitMs: 500 });
    inv = await invalidatorFor(region, {
      name: 'consumer',
      extraArgs: ['--max-attempts', '3', '--retry-base-ms', '20', '--retry-cap-ms', '50'],
    });
    await inv.start();
    producer = await producerFor(region);
  });
  afterAll(async () => {
    await inv?.dispose();
    await producer?.disconnect();
    await cleanup(redis, prefix);
    redis.disconnect();
  });

  const fill = (key: string, tags?: string[]) => cache.get(key, async () => `v:${key}`, { tags });
  const cached = async (...keys: string[]) => redis.exists(...keys);

  it('applies keys, tags and versions from the topic and reports freshness and latency', async () => {
    const keys = Array.from({ length: 50 }, (_, i) => `${prefix}user:${i}`);
    for (const k of keys) await fill(k);
    const tagged = [`${prefix}team:1:a`, `${prefix}team:1:b`];
    for (const k of tagged) await fill(k, [`${prefix}team:1`]);
    await redis.set(leaseKey(keys[0]!), 'a-fill-in-flight');
    const stamped = Date.now(); // the events' primary commit time is taken as they are built, from here on
    await producer.publish(inv.topic, [
      ...keys.map((k) => invalidation({ keys: [k], versions: [`ver:${prefix}users`] })),
      invalidation({ tags: [`${prefix}team:1`] }),
    ]);
    await eventually('every key invalidated', async () =>
      (await cached(...keys, ...tagged)) === 0 ? true : undefined,
    );
    // Revoked: deleted, or a tombstone for --fill-tombstone-ms (default 250); the fill's token is gone either way.
    expect(await redis.get(leaseKey(keys[0]!))).not.toBe('a-fill-in-flight');
    // 50 bumps, each to max(current + 1, the clock in µs): past the clock when they started.
    expect(Number(await redis.get(`ver:${prefix}users`))).toBeGreaterThanOrEqual(stamped * 1000);
    await eventually('offsets committed to the end', async () =>
      (await groupLag(region, inv.groupId, inv.topic)) === 0 ? true : undefined,
    );

    const health = await inv.health();
    expect(health).toMatchObject({
      ok: true,
      component: 'invalidator',
      region: region.region,
      redis: 'up',
      deadLettered: 0,
    });
    expect(health.applied).toBeGreaterThanOrEqual(51);
    // The window holds these events' commit -> applied latencies: each one positive (delivery
    // takes time) and no longer than the time since they were stamped.
    const latency = health.latencyMs as { p50: number; p99: number; count: number };
    expect(latency.count).toBeGreaterThanOrEqual(51);
    expect(latency.p50).toBeGreaterThan(0);
    expect(latency.p99).toBeGreaterThanOrEqual(latency.p50);
    expect(latency.p99).toBeLessThanOrEqual(Date.now() - stamped);
    expect(health.freshnessSeconds).toBeTypeOf('number');
    const metrics = await inv.metrics();
    expect(metrics).toMatch(
      /fabric_inval_commit_to_applied_seconds_count\{region="eu-west",component="invalidator"\} (\d+)/,
    );
    expect(metrics).toMatch(
      /fabric_inval_events_applied_total\{operation="update",region="eu-west",component="invalidator"\} 51/,
    );
  });

  it('treats duplicate events as harmless', async () => {
    const key = `${prefix}dup`;
    await fill(key);
    const ev = invalidation({ keys: [key] });
    await producer.publish(inv.topic, [ev, ev, ev]);
    await eventually('duplicate applied', async () => ((await cached(key)) === 0 ? true : undefined));
    // Fill again after the duplicates were applied: later redeliveries must not have left a lease behind that blocks it.
    await eventually('lag 0', async () => ((await groupLag(region, inv.groupId, inv.topic)) === 0 ? true : undefined));
    expect(await fill(key)).toBe(`v:${key}`);
    expect(await redis.hget(key, 'd')).not.toBeNull();
  });

  it('sends poison to the DLQ with the reason, original bytes and attempts, and goes on', async () => {
    const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    const versionKey = `ver:${prefix}not-a-number`;
    await redis.set(versionKey, 'abc');
    const poison = invalidation({
      keys: [`${prefix}p`],
      versions: [versionKey],
      table: 'public.users',
      sourceLsn: '0/ABC',
    });
    const after = `${prefix}after-poison`;
    await fill(after);
    await producer.publish(inv.topic, [garbage, poison, invalidation({ keys: [after] })]);
    await eventually('event after the poison applied', async () => ((await cached(after)) === 0 ? true : undefined));

    const letters = await readTopic(region, inv.dlqTopic, decodeDeadLetter, (items) => items.length >= 2);
    const undecodable = letters.find((l) => l.reason.startsWith('undecodable'));
    expect(undecodable).toMatchObject({
      component: 'invalidator',
      region: region.region,
      attempts: 0,
      sourceTopic: inv.topic,
    });
    expect(Buffer.from(undecodable!.original)).toEqual(garbage);
    const permanent = letters.find((l) => l.reason.startsWith('permanent'));
    expect(permanent).toMatchObject({ attempts: 1, table: 'public.users', sourceLsn: '0/ABC' });
    expect(permanent!.reason).toContain('not an integer');
    expect(Buffer.from(permanent!.original).length).toBeGreaterThan(0);
    await eventually('committed past the poison', async () =>
      (await groupLag(region, inv.groupId, inv.topic)) === 0 ? true : undefined,
    );
    expect((await inv.health()).deadLettered).toBe(2);
  });

  it('gives a heartbeat a Redis round trip, so freshness moves only while Redis answers', async () => {
    const commitMs = Date.now() + 60_000;
    await producer.publish(inv.topic, [
      invalidation({ operation: Operation.HEARTBEAT, primaryCommitTime: timestampFromMs(commitMs) }),
    ]);
    await eventually('heartbeat written through', async () =>
      Number(await redis.get(HEARTBEAT_KEY)) === commitMs ? true : undefined,
    );
  });

  it('stops on SIGTERM with exit code 0 and leaves the group', async () => {
    expect(await inv.stop()).toBe(0);
  });
});
