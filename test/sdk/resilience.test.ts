import { RedisApplier } from '@fabric/invalidator';
import {
  CacheLoaderTimeoutError,
  CacheSerializationError,
  FabricCache,
  type FabricCacheOptions,
  leaseKey,
  staleKey,
} from '@fabric/sdk';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { eventually } from '../support.js';
import { cleanup, deferred, event, uniquePrefix } from './helpers.js';

const prefix = uniquePrefix('resilience');
const base: FabricCacheOptions = { ttlSeconds: 60, ttlJitter: 0, leaseMs: 10_000, waitMs: 5_000 };
const dbDown = () => Promise.reject(new Error('db down'));

/**
 * The read path's resilience options against the sandbox's Redis and the real invalidator's
 * applier. Expiry is Redis's own (short TTLs, waited for with a deadline); loaders are held
 * on deferred promises, so "slow" means "not answered yet", never a measured delay.
 */
describe('FabricCache resilience against real Redis', () => {
  const { host, port } = inject('endpoints').regions[0]!.redis;
  let redis: Redis;
  let applier: RedisApplier;

  beforeAll(async () => {
    redis = new Redis({ host, port, lazyConnect: true });
    await redis.connect();
    applier = new RedisApplier(redis, pino({ level: 'silent' }));
  });
  afterAll(async () => {
    await cleanup(redis, prefix);
    redis.disconnect();
  });

  const expired = (key: string) =>
    eventually(`${key} to expire`, async () => ((await redis.exists(key)) === 0 ? true : undefined));

  describe('grace (stale-if-error)', () => {
    it('serves the last value flagged stale when the loader fails, and stops after graceSeconds', async () => {
      const key = `${prefix}grace`;
      const cache = new FabricCache(redis, { ...base, ttlSeconds: 1, graceSeconds: 2 });
      expect(await cache.get(key, async () => 'v1')).toBe('v1');
      // The copy outlives the value by exactly the grace period: Redis ends the grace itself.
      const copyTtl = await redis.pttl(staleKey(key));
      expect(copyTtl).toBeGreaterThan(1000);
      expect(copyTtl).toBeLessThanOrEqual(3000);

      await expired(key);
      expect(await cache.getEntry(key, dbDown)).toEqual({
        value: 'v1',
        stale: true,
        source: 'grace',
        reason: 'loader-error',
      });
      expect(await redis.exists(leaseKey(key))).toBe(0); // the failed fill gave its lease back
      expect(cache.stats.graceServed).toBe(1);

      await expired(staleKey(key));
      await expect(cache.getEntry(key, dbDown)).rejects.toThrow('db down');
      expect(cache.stats.graceServed).toBe(1);
    });

    it('without graceSeconds the same failure reaches the caller (negative control)', async () => {
      const key = `${prefix}nograce`;
      const cache = new FabricCache(redis, { ...base, ttlSeconds: 1 });
      await cache.get(key, async () => 'v1');
      await expired(key);
      await expect(cache.getEntry(key, dbDown)).rejects.toThrow('db down');
    });

    it('never serves a value that was invalidated: key, tag and version invalidations all end its grace', async () => {
      const cache = new FabricCache(redis, { ...base, graceSeconds: 60 });
      const tag = `${prefix}grace-team`;
      const versionKey = `ver:${prefix}grace-user`;
      const cases = [
        { key: `${prefix}grace-inv:key`, opts: {}, inval: (key: string) => ({ keys: [key] }) },
        { key: `${prefix}grace-inv:tag`, opts: { tags: [tag] }, inval: () => ({ tags: [tag] }) },
        { key: `${prefix}grace-inv:ver`, opts: { versionKey }, inval: () => ({ versions: [versionKey] }) },
      ];
      for (const c of cases) {
        expect(await cache.get(c.key, async () => 'old', c.opts)).toBe('old');
        const applied = await applier.apply([event(c.inval(c.key))]);
        expect(applied.failed).toEqual([]);
        await expect(cache.getEntry(c.key, dbDown, c.opts), c.key).rejects.toThrow('db down');
      }
      expect(cache.stats.graceServed).toBe(0);
    });
  });

  describe('timeouts', () => {
    it('soft timeout: answers with the graced value while the fill continues and lands in the background', async () => {
      const key = `${prefix}soft`;
      const cache = new FabricCache(redis, {
        ...base,
        ttlSeconds: 1,
        graceSeconds: 30,
        softTimeoutMs: 200,
        hardTimeoutMs: 10_000,
      });
      await cache.get(key, async () => 'v1');
      await expired(key);
      const gate = deferred();
      let loaderDone = false;
      const started = Date.now();
      const entry = await cache.getEntry(key, async () => {
        await gate.promise;
        loaderDone = true;
        return 'v2';
      });
      expect(entry).toEqual({ value: 'v1', stale: true, source: 'grace', reason: 'soft-timeout' });
      expect(loaderDone).toBe(false); // answered while the loader still ran
      expect(Date.now() - started).toBeLessThan(10_000); // well before the hard timeout
      expect(await redis.exists(leaseKey(key))).toBe(1); // the fill still holds its lease

      gate.resolve();
      await eventually('the background fill', async () => (cache.stats.fills === 2 ? true : undefined));
      expect(await cache.getEntry(key, async () => 'not called')).toEqual({ value: 'v2', stale: false, source: 'l2' });
      expect(cache.stats).toMatchObject({ softTimeouts: 1, loads: 2, backgroundFailures: 0 });
    });

    it('soft timeout without a graced value keeps waiting for the loader', async () => {
      const key = `${prefix}soft-cold`;
      const cache = new FabricCache(redis, { ...base, graceSeconds: 30, softTimeoutMs: 50 });
      const gate = deferred();
      const pending = cache.getEntry(key, async () => {
        await gate.promise;
        return 'v1';
      });
      await vi.waitFor(() => expect(cache.stats.loads).toBe(1));
      gate.resolve();
      expect(await pending).toEqual({ value: 'v1', stale: false, source: 'loader' });
      expect(cache.stats.softTimeouts).toBe(0);
    });

    it('hard timeout: a typed error, the lease given back, and the late result not cached', async () => {
      const key = `${prefix}hard`;
      const cache = new FabricCache(redis, { ...base, hardTimeoutMs: 300 });
      const gate = deferred();
      let loaderDone = false;
      const err = await cache
        .get(key, async () => {
          await gate.promise;
          loaderDone = true;
          return 'late';
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CacheLoaderTimeoutError);
      expect(err).toMatchObject({ key, timeoutMs: 300, retriable: true });
      expect(loaderDone).toBe(false);
      expect(await redis.exists(leaseKey(key))).toBe(0);

      gate.resolve();
      await vi.waitFor(() => expect(loaderDone).toBe(true));
      expect(await cache.get(key, async () => 'retried')).toBe('retried');
      expect(await cache.get(key, async () => 'not called')).toBe('retried');
      expect(cache.stats).toMatchObject({ hardTimeouts: 1, fills: 1 });
    });

    it('hard timeout with a graced value serves it flagged stale', async () => {
      const key = `${prefix}hard-grace`;
      const cache = new FabricCache(redis, { ...base, ttlSeconds: 1, graceSeconds: 30, hardTimeoutMs: 300 });
      await cache.get(key, async () => 'v1');
      await expired(key);
      const gate = deferred();
      const entry = await cache.getEntry(key, async () => {
        await gate.promise;
        return 'late';
      });
      gate.resolve();
      expect(entry).toEqual({ value: 'v1', stale: true, source: 'grace', reason: 'hard-timeout' });
    });
  });

  describe('early refresh (XFetch)', () => {
    it('refreshes a hot key before it expires, with one load across concurrent callers', async () => {
      const key = `${prefix}early`;
      // random = e^-10: a hit refreshes once the key has less than 10 load durations left.
      const cache = new FabricCache(redis, {
        ...base,
        ttlSeconds: 4,
        earlyRefresh: { beta: 1 },
        random: () => Math.exp(-10),
      });
      let version = 0;
      const loader = async () => {
        version++;
        await new Promise((resolve) => setTimeout(resolve, 100)); // a load that takes a while
        return `v${version}`;
      };
      expect(await cache.get(key, loader)).toBe('v1');
      // Far from expiry: a hit is just a hit.
      expect(await cache.get(key, loader)).toBe('v1');
      expect(cache.stats.earlyRefreshes).toBe(0);

      await eventually('the key to near expiry', async () => ((await redis.pttl(key)) < 900 ? true : undefined));
      const results = await Promise.all(Array.from({ length: 20 }, () => cache.getEntry(key, loader)));
      expect(results.every((r) => r.value === 'v1' && r.source === 'l2')).toBe(true);
      await eventually('the early refresh to land', async () => (cache.stats.fills === 2 ? true : undefined));
      expect(cache.stats).toMatchObject({ earlyRefreshes: 1, loads: 2, misses: 1 });
      expect(await redis.pttl(key)).toBeGreaterThan(2000);
      expect(await cache.get(key, loader)).toBe('v2');
    });

    it('without earlyRefresh the key expires and the next caller waits on a load (negative control)', async () => {
      const key = `${prefix}no-early`;
      const cache = new FabricCache(redis, { ...base, ttlSeconds: 1 });
      await cache.get(key, async () => 'v1');
      await expired(key);
      expect(await cache.getEntry(key, async () => 'v2')).toEqual({ value: 'v2', stale: false, source: 'loader' });
      expect(cache.stats.misses).toBe(2);
    });
  });

  describe('negative caching', () => {
    it('caches "not found" for negativeTtlSeconds, and an invalidation removes it', async () => {
      const key = `${prefix}absent`;
      const tag = `${prefix}absent-tag`;
      const cache = new FabricCache(redis, { ...base, negativeTtlSeconds: 5 });
      let row: { id: number } | undefined;
      let queries = 0;
      const loader = async () => {
        queries++;
        return row;
      };
      expect(await cache.get(key, loader, { tags: [tag] })).toBeUndefined();
      expect(await cache.getEntry(key, loader, { tags: [tag] })).toEqual({
        value: undefined,
        stale: false,
        source: 'l2',
      });
      expect(queries).toBe(1);
      expect(await redis.pttl(key)).toBeLessThanOrEqual(5000);
      expect(cache.stats.negativeFills).toBe(1);

      // The row is inserted; the key rules turn that into an invalidation of its key (here, its tag).
      row = { id: 7 };
      expect((await applier.apply([event({ tags: [tag] })])).failed).toEqual([]);
      expect(await cache.get(key, loader, { tags: [tag] })).toEqual({ id: 7 });
      expect(queries).toBe(2);
      expect(await redis.pttl(key)).toBeGreaterThan(5000);
    });

    it('null is cached briefly too; without the option it is an ordinary value and undefined an error', async () => {
      const on = new FabricCache(redis, { ...base, negativeTtlSeconds: 5 });
      const off = new FabricCache(redis, base);
      expect(await on.get(`${prefix}null-on`, async () => null)).toBeNull();
      expect(await on.get(`${prefix}null-on`, async () => 'not called')).toBeNull();
      expect(await redis.pttl(`${prefix}null-on`)).toBeLessThanOrEqual(5000);
      expect(await off.get(`${prefix}null-off`, async () => null)).toBeNull();
      expect(await redis.pttl(`${prefix}null-off`)).toBeGreaterThan(5000);
      await expect(off.get(`${prefix}undefined-off`, async () => undefined)).rejects.toThrow(CacheSerializationError);
    });
  });

  describe('ttl from the value', () => {
    type Token = { token: string; expiresIn: number };
    const cache = () => new FabricCache(redis, { ...base, ttl: (v) => (v as Token).expiresIn });

    it("applies the value's own lifetime, clamped to ttlSeconds", async () => {
      const c = cache();
      await c.get(`${prefix}ttl-own`, async () => ({ token: 'a', expiresIn: 3 }));
      const own = await redis.pttl(`${prefix}ttl-own`);
      expect(own).toBeGreaterThan(2000);
      expect(own).toBeLessThanOrEqual(3000);
      await c.get(`${prefix}ttl-long`, async () => ({ token: 'b', expiresIn: 86_400 }));
      const clamped = await redis.pttl(`${prefix}ttl-long`);
      expect(clamped).toBeGreaterThan(59_000);
      expect(clamped).toBeLessThanOrEqual(60_000);
      // Per get, the option overrides the cache's.
      await c.get(`${prefix}ttl-get`, async () => ({ token: 'c', expiresIn: 50 }), { ttl: () => 2 });
      expect(await redis.pttl(`${prefix}ttl-get`)).toBeLessThanOrEqual(2000);
    });

    it('does not cache a value that is already expired, and frees the lease', async () => {
      const c = cache();
      const key = `${prefix}ttl-expired`;
      let loads = 0;
      const loader = async () => ({ token: `t${++loads}`, expiresIn: loads === 1 ? 0 : 30 });
      expect(await c.get(key, loader)).toEqual({ token: 't1', expiresIn: 0 });
      expect(await redis.exists(key)).toBe(0);
      expect(await redis.exists(leaseKey(key))).toBe(0);
      expect(c.stats.uncacheable).toBe(1);
      expect(await c.get(key, loader)).toEqual({ token: 't2', expiresIn: 30 });
      expect(await redis.pttl(key)).toBeLessThanOrEqual(30_000);
    });
  });
});
