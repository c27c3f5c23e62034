import { randomBytes } from 'node:crypto';
import { busChannel, serializeBusMessage } from '@fabric/contracts';
import { RedisApplier } from '@fabric/invalidator';
import { InvalidationEventSchema, toBinary } from '@fabric/proto';
import {
  FabricCache,
  type FabricCacheOptions,
  InvalidationBus,
  L1Cache,
  type L1Options,
  type L1Ticket,
} from '@fabric/sdk';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { invalidatorFor } from '../invalidator/harness.js';
import { eventually } from '../support.js';
import { cleanup, deferred, event, uniquePrefix } from './helpers.js';

const prefix = uniquePrefix('l1');
const options: FabricCacheOptions = { ttlSeconds: 60, ttlJitter: 0, leaseMs: 10_000, waitMs: 5_000 };
const l1Options: L1Options = { maxEntries: 1_000, maxBytes: 1_000_000, maxTtlMs: 60_000 };

/** The guard taken out: every insert judged as if its read had started just now. */
class UnguardedL1 extends L1Cache {
  override insert(key: string, payload: string, _ticket: L1Ticket, ttlMs: number, meta = {}): boolean {
    return super.insert(key, payload, this.ticket(), ttlMs, meta);
  }
}

/** The disconnect handling taken out: nothing ever clears it. */
class NoFlushL1 extends L1Cache {
  override flush(): void {}
}

describe('L1 in front of Redis, kept by the region bus', () => {
  const region = inject('endpoints').regions[0]!;
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(region.redis.url);
  });
  afterAll(async () => {
    await cleanup(redis, prefix);
    redis.disconnect();
  });

  /**
   * The L1 race, forced: the fill is written to Redis, but its reply is held; meanwhile the
   * invalidation deletes the key and its bus message arrives (L1 has nothing to drop yet);
   * then the reply comes and the instance would store the old value in L1.
   */
  async function fillRace(l1: L1Cache) {
    // A bus of its own (nobody else publishes there), quiet on purpose: no stall during the test.
    const busRegion = `race-${randomBytes(3).toString('hex')}`;
    const bus = new InvalidationBus({ redis, region: busRegion, stallMs: 600_000 });
    await bus.start();
    const gate = { held: false, reached: deferred(), release: deferred() };
    // Holds the reply of the fill script (the only EVALSHA after the loader ran).
    const client = new Proxy(redis, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== 'evalsha' && prop !== 'eval') return typeof value === 'function' ? value.bind(target) : value;
        return async (...args: unknown[]) => {
          const reply = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (gate.held) {
            gate.held = false;
            gate.reached.resolve();
            await gate.release.promise;
          }
          return reply;
        };
      },
    });
    const cache = new FabricCache(client, { ...options, l1, bus });
    const key = `${prefix}race:${randomBytes(2).toString('hex')}`;
    const db = { value: 'old' };
    const first = cache.get(key, async () => {
      gate.held = true;
      return db.value;
    });
    await gate.reached.promise;
    expect(await redis.hget(key, 'd')).toBe('"old"'); // the fill is in Redis
    db.value = 'new';
    expect((await new RedisApplier(redis, pino({ level: 'silent' })).apply([event({ keys: [key] })])).failed).toEqual(
      [],
    );
    const heard = bus.stats.messages;
    await redis.publish(
      busChannel(busRegion),
      serializeBusMessage({
        member: 'test',
        topic: 't',
        keys: [key],
        tags: [],
        versions: [],
        patterns: [],
        flush: false,
        watermarks: {},
        partitions: 0,
      }),
    );
    await eventually('bus message received', async () => (bus.stats.messages > heard ? true : undefined));
    gate.release.resolve();
    expect(await first).toBe('old');
    const next = await cache.get(key, async () => db.value);
    await bus.stop();
    return { next, cache };
  }

  it('without the invalidation epoch, a fill whose reply lost the race to the bus stays stale in L1', async () => {
    const { next, cache } = await fillRace(new UnguardedL1(l1Options));
    expect(next).toBe('old');
    expect(cache.stats.l1Hits).toBe(1);
  });

  it('with it, the insert is refused and the next get loads the new value', async () => {
    const l1 = new L1Cache(l1Options);
    const { next, cache } = await fillRace(l1);
    expect(next).toBe('new');
    expect(l1.stats.refusedInserts).toBe(1);
    expect(cache.stats.l1Hits).toBe(0);
  });

  describe('with a real invalidator', () => {
    const kafka = new Kafka({ brokers: region.kafka.brokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    let invalidator: Awaited<ReturnType<typeof invalidatorFor>>;
    let probe: Redis;
    const heard: string[] = [];

    beforeAll(async () => {
      invalidator = await invalidatorFor(region, { name: 'l1bus', metricsPort: 32200 });
      await invalidator.start();
      await producer.connect();
      probe = new Redis(region.redis.url);
      probe.on('message', (_c: string, m: string) => heard.push(m));
      await probe.subscribe(busChannel(region.region));
    }, 60_000);
    afterAll(async () => {
      await producer.disconnect();
      probe.disconnect();
      await invalidator.dispose();
    });

    const send = (keys: string[]) =>
      producer.send({
        topic: invalidator.topic,
        messages: [{ key: keys[0]!, value: Buffer.from(toBinary(InvalidationEventSchema, event({ keys }))) }],
      });

    it('an applied invalidation drops the L1 copy in every instance; an L1 hit is far cheaper than Redis', async () => {
      const instances = [0, 1].map(() => {
        const bus = new InvalidationBus({ redis, region: region.region, topic: invalidator.topic });
        return { bus, cache: new FabricCache(redis, { ...options, l1: new L1Cache(l1Options), bus }) };
      });
      for (const i of instances) await i.bus.start();
      const key = `${prefix}bus:${randomBytes(2).toString('hex')}`;
      const db = { value: 'old' };
      for (const i of instances) expect(await i.cache.get(key, async () => db.value)).toBe('old');
      for (const i of instances) expect(await i.cache.get(key, async () => db.value)).toBe('old');
      expect(instances.map((i) => i.cache.stats.l1Hits)).toEqual([1, 1]);

      // Informal figures: 200 gets from L1 vs 200 from Redis.
      const a = instances[0]!;
      let t = performance.now();
      for (let n = 0; n < 200; n++) await a.cache.get(key, async () => db.value);
      const l1Us = ((performance.now() - t) * 1000) / 200;
      const plain = new FabricCache(redis, options);
      t = performance.now();
      for (let n = 0; n < 200; n++) await plain.get(key, async () => db.value);
      const l2Us = ((performance.now() - t) * 1000) / 200;
      process.stderr.write(`[l1] mean get: L1 ${l1Us.toFixed(1)} µs, L2 ${l2Us.toFixed(1)} µs\n`);

      db.value = 'new';
      await send([key]);
      for (const i of instances)
        expect(
          await eventually('the bus drop', async () => {
            const v = await i.cache.get(key, async () => db.value);
            return v === 'new' ? v : undefined;
          }),
        ).toBe('new');
      for (const i of instances) await i.bus.stop();
    }, 60_000);

    /** Cuts the subscriber's connection (CLIENT KILL) while an invalidation is applied and published. */
    async function cutDuringInvalidation(l1: L1Cache) {
      let reconnect = false;
      const name = `l1-sub-${randomBytes(3).toString('hex')}`;
      const subscriber = new Redis(region.redis.url, {
        connectionName: name,
        retryStrategy: () => (reconnect ? 50 : null),
      });
      const bus = new InvalidationBus({ redis, region: region.region, topic: invalidator.topic, subscriber });
      await bus.start();
      const cache = new FabricCache(redis, { ...options, l1, bus });
      const key = `${prefix}cut:${randomBytes(2).toString('hex')}`;
      const db = { value: 'old' };
      await cache.get(key, async () => db.value);
      expect(await cache.get(key, async () => db.value)).toBe('old');
      expect(cache.stats.l1Hits).toBe(1);

      const clients = (await redis.client('LIST')) as string;
      const id = clients
        .split('\n')
        .find((l) => l.includes(`name=${name} `))
        ?.match(/id=(\d+)/)?.[1];
      expect(id).toBeDefined();
      await redis.client('KILL', 'ID', id!);
      await eventually('the subscriber gone', async () => (bus.live ? undefined : true));

      // The invalidation is applied and published while the subscriber is away: it never hears it.
      db.value = 'new';
      const before = heard.length;
      await send([key]);
      await eventually('the bus message published', async () =>
        heard.slice(before).some((m) => m.includes(key)) ? true : undefined,
      );
      expect(await redis.exists(key)).toBe(0);

      reconnect = true;
      await subscriber.connect();
      await eventually('resubscribed', async () => (bus.live ? true : undefined));
      const after = await cache.get(key, async () => db.value);
      expect(bus.stats.outages).toBe(1);
      await bus.stop();
      return { after, cache };
    }

    it('without clearing L1 on the lost subscription, the missed invalidation leaves a stale L1 hit', async () => {
      const { after, cache } = await cutDuringInvalidation(new NoFlushL1(l1Options));
      expect(after).toBe('old');
      expect(cache.stats.l1Hits).toBe(2);
    }, 60_000);

    it('a subscriber that loses its connection during an invalidation clears L1 and serves nothing stale after', async () => {
      const l1 = new L1Cache(l1Options);
      const { after } = await cutDuringInvalidation(l1);
      expect(after).toBe('new');
      expect(l1.stats.flushes).toBeGreaterThan(0);
    }, 60_000);
  });

  it('a bus that goes quiet for stallMs (no invalidator heartbeat) turns L1 off until heard again', async () => {
    const busRegion = `stall-${randomBytes(3).toString('hex')}`;
    const bus = new InvalidationBus({ redis, region: busRegion, stallMs: 2_000 });
    await bus.start();
    const beat = () =>
      redis.publish(
        busChannel(busRegion),
        serializeBusMessage({
          member: 'test',
          topic: 't',
          keys: [],
          tags: [],
          versions: [],
          patterns: [],
          flush: false,
          watermarks: {},
          partitions: 0,
        }),
      );
    const heartbeats = setInterval(() => void beat(), 300);
    const l1 = new L1Cache(l1Options);
    const cache = new FabricCache(redis, { ...options, l1, bus });
    const key = `${prefix}stall:${randomBytes(2).toString('hex')}`;
    await cache.get(key, async () => 'v');
    expect(l1.size).toBe(1);
    clearInterval(heartbeats);
    await eventually('the stall noticed', async () => (bus.live ? undefined : true), 10_000);
    expect(l1.size).toBe(0);
    await cache.get(key, async () => 'v');
    expect(cache.stats.l1Hits).toBe(0);
    await beat();
    await eventually('heard again', async () => (bus.live ? true : undefined), 10_000);
    await bus.stop();
  }, 30_000);
});
