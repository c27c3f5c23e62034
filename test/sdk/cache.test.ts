import { RedisApplier } from '@fabric/invalidator';
import { FabricCache, type FabricCacheOptions, LUA_COMPANION, leaseKey, staleKey, tagKey } from '@fabric/sdk';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { cleanup, deferred, event, uniquePrefix } from './helpers.js';

const prefix = uniquePrefix('sdk');
const options: FabricCacheOptions = { ttlSeconds: 60, ttlJitter: 0.2, leaseMs: 10_000, waitMs: 5_000 };

describe('FabricCache against real Redis', () => {
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

  /**
   * The read-populates-stale race, step by step: a reader misses and loads the old row; the
   * row changes and the invalidator applies the event; only then does the reader fill. The
   * loader is held on a promise, so the interleaving is forced, not timed.
   */
  async function raceOnce(
    name: string,
    cacheOptions: FabricCacheOptions,
    how: { tags?: string[]; versionKey?: string },
    inval: (key: string) => Parameters<typeof event>[0],
  ) {
    const key = `${prefix}${name}`;
    const db = { value: 'old' };
    const cache = new FabricCache(redis, cacheOptions);
    const loaded = deferred();
    const proceed = deferred();
    const reader = cache.get(
      key,
      async () => {
        const value = db.value;
        loaded.resolve();
        await proceed.promise;
        return value;
      },
      how,
    );
    await loaded.promise;
    db.value = 'new';
    const applied = await applier.apply([event(inval(key))]);
    expect(applied.failed).toEqual([]);
    proceed.resolve();
    expect(await reader).toBe('old'); // the caller still gets what it loaded
    const next = await cache.get(key, async () => db.value, how);
    return { next, cache, applied };
  }

  it('without leases, a fill that loaded before the invalidation leaves the stale value cached', async () => {
    const { next, cache } = await raceOnce('race:plain', { ...options, leases: false }, {}, (key) => ({ keys: [key] }));
    expect(next).toBe('old');
    expect(cache.stats.loads).toBe(1);
  });

  it('with leases, the invalidation revokes the lease, the fill is refused and the next get loads the new value', async () => {
    const { next, cache, applied } = await raceOnce('race:lease', options, {}, (key) => ({ keys: [key] }));
    expect(applied.leasesRevoked).toBe(1);
    expect(cache.stats).toMatchObject({ refusedFills: 1, fills: 1, loads: 2 });
    expect(next).toBe('new');
    expect(await redis.exists(leaseKey(`${prefix}race:lease`))).toBe(0);
  });

  it('closes the race for tag invalidations too: the key is registered before loading', async () => {
    const { next, cache, applied } = await raceOnce('race:tag', options, { tags: [`${prefix}team:7`] }, () => ({
      tags: [`${prefix}team:7`],
    }));
    expect(applied.tagsExpanded).toBe(1);
    expect(cache.stats.refusedFills).toBe(1);
    expect(next).toBe('new');
  });

  it('closes the race for version invalidations: a value filled under an old version reads as a miss', async () => {
    const versionKey = `ver:${prefix}user:1`;
    const { next, cache } = await raceOnce('race:ver', options, { versionKey }, () => ({ versions: [versionKey] }));
    expect(cache.stats.fills).toBe(2); // the lease was not revoked, but the version moved
    expect(next).toBe('new');
    expect(await cache.get(`${prefix}race:ver`, async () => 'unexpected', { versionKey })).toBe('new');
  });

  it('lets one of 20 concurrent gets on a cold key load; the others wait for its fill', async () => {
    const key = `${prefix}stampede`;
    const cache = new FabricCache(redis, options);
    const gate = deferred();
    let calls = 0;
    const loader = async () => {
      calls++;
      await gate.promise;
      return { id: 1, name: 'ada' };
    };
    const gets = Array.from({ length: 20 }, () => cache.get(key, loader));
    // Hold the one load until every caller has missed, so all 20 really contend.
    await vi.waitFor(() => expect(cache.stats.misses).toBe(20));
    gate.resolve();
    const results = await Promise.all(gets);
    expect(calls).toBe(1);
    expect(results).toEqual(Array(20).fill({ id: 1, name: 'ada' }));
    expect(cache.stats).toMatchObject({ loads: 1, fills: 1, hits: 19, uncachedLoads: 0 });
  });

  it('serves the stale copy to a caller that allows it while another caller refills', async () => {
    const key = `${prefix}stale`;
    const cache = new FabricCache(redis, { ...options, staleOk: true });
    expect(await cache.get(key, async () => 'v1')).toBe('v1');
    await redis.del(key); // the value expired; an invalidation would delete the stale copy too
    expect(await redis.exists(staleKey(key))).toBe(1);
    const gate = deferred();
    const refill = cache.get(key, async () => {
      await gate.promise;
      return 'v2';
    });
    await vi.waitFor(() => expect(cache.stats.loads).toBe(2));
    expect(await cache.get(key, async () => 'not called', { allowStale: true })).toBe('v1');
    gate.resolve();
    expect(await refill).toBe('v2');
    expect(await cache.get(key, async () => 'not called')).toBe('v2');
    expect(cache.stats.staleServed).toBe(1);
  });

  it('gives the lease back when the loader fails, so the next caller loads at once', async () => {
    const key = `${prefix}failing`;
    const cache = new FabricCache(redis, options);
    await expect(cache.get(key, async () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect(await redis.exists(leaseKey(key))).toBe(0);
    expect(await cache.get(key, async () => 'ok')).toBe('ok');
  });

  it('sets a jittered TTL no longer than ttlSeconds and registers tags with a TTL', async () => {
    const key = `${prefix}ttl`;
    const cache = new FabricCache(redis, options);
    await cache.get(key, async () => 1, { tags: [`${prefix}t`] });
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(60_000 * 0.8 - 1000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await redis.smembers(tagKey(`${prefix}t`))).toEqual([key]);
    expect(await redis.pttl(tagKey(`${prefix}t`))).toBeGreaterThan(60_000);
  });

  it('derives lease keys in Lua exactly as in TypeScript', async () => {
    const keys = ['user:42', 'user:{42}:p', 'a{}b', 'a{b}c{d}', '{a{b}', 'ключ:1'];
    const lua = `${LUA_COMPANION} local out = {} for i, k in ipairs(ARGV) do out[i] = companion('lease:', k) end return out`;
    expect(await redis.eval(lua, 0, ...keys)).toEqual(keys.map(leaseKey));
  });
});
