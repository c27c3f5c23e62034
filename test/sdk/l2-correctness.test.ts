import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { RedisApplier } from '@fabric/invalidator';
import { FabricCache, type FabricCacheOptions, FILLING_KEY, leaseKey, staleKey } from '@fabric/sdk';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { registerFill, unregisterFill } from '../../packages/sdk/src/scripts.js';
import { cleanup, deferred, event, uniquePrefix } from './helpers.js';

const prefix = uniquePrefix('l2');
const options: FabricCacheOptions = { ttlSeconds: 60, ttlJitter: 0, leaseMs: 10_000, waitMs: 5_000 };
const here = path.dirname(fileURLToPath(import.meta.url));

/** A get whose loader reads `db.value` and then waits for `proceed`, so the test decides when it fills. */
function heldGet(cache: FabricCache, key: string, db: { value: string }, opts = {}) {
  const loaded = deferred();
  const proceed = deferred();
  const result = cache.get(
    key,
    async () => {
      const value = db.value;
      loaded.resolve();
      await proceed.promise;
      return value;
    },
    opts,
  );
  return { loaded: loaded.promise, proceed: () => proceed.resolve(), result };
}

describe('the L2 protocol against real Redis', () => {
  const region = inject('endpoints').regions[0]!;
  const { host, port } = region.redis;
  let redis: Redis;
  let applier: RedisApplier;

  beforeAll(async () => {
    redis = new Redis({ host, port, lazyConnect: true });
    await redis.connect();
    applier = new RedisApplier(redis, pino({ level: 'silent' }));
  });
  afterAll(async () => {
    await cleanup(redis, prefix);
    const ours = (await redis.zrange(FILLING_KEY, 0, -1)).filter((k) => k.includes(prefix));
    if (ours.length > 0) await redis.zrem(FILLING_KEY, ...ours);
    redis.disconnect();
  });

  describe('stampede across processes', () => {
    const PROCESSES = 4;
    const GETS = 50;
    let workers: Array<{ child: ChildProcess; next: () => Promise<string> }> = [];

    beforeAll(() => {
      workers = Array.from({ length: PROCESSES }, () => {
        const child = spawn(process.execPath, [path.join(here, 'stampede-worker.mjs')], {
          env: { ...process.env, REDIS_URL: `redis://${host}:${port}`, GETS: String(GETS) },
          stdio: ['pipe', 'pipe', 'inherit'],
        });
        const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
        return { child, next: async () => String((await lines.next()).value) };
      });
    });
    afterAll(() => {
      for (const w of workers) w.child.kill();
    });

    /** One cold key, PROCESSES × GETS concurrent gets; returns how many times it was loaded. */
    async function trial(name: string, versioned: boolean): Promise<number> {
      const key = `${prefix}${name}`;
      const counter = `${prefix}loads:${name}`;
      for (const w of workers) w.child.stdin!.write(`${key} ${counter} ${versioned ? 1 : 0}\n`);
      const replies = await Promise.all(workers.map((w) => w.next()));
      for (const reply of replies) expect(JSON.parse(reply)).toMatchObject({ key, ok: true });
      return Number(await redis.get(counter));
    }

    it(`loads a cold key exactly once per trial: ${PROCESSES} processes × ${GETS} gets, 45 trials`, async () => {
      const loads: number[] = [];
      for (let t = 0; t < 45; t++) loads.push(await trial(`stampede:${t}`, false));
      expect(loads.filter((n) => n !== 1)).toEqual([]);
    });

    it('and with a version key (the re-check compares the version too), 20 trials', async () => {
      const loads: number[] = [];
      for (let t = 0; t < 20; t++) loads.push(await trial(`stampede:v:${t}`, true));
      expect(loads.filter((n) => n !== 1)).toEqual([]);
    });
  });

  describe('pattern invalidations revoke fills in flight', () => {
    it('a fill loading under user:* when a user:* pattern is applied is refused; the next get loads the new row', async () => {
      const key = `${prefix}user:7`;
      const other = `${prefix}order:7`;
      const db = { value: 'old' };
      const cache = new FabricCache(redis, options);
      const fill = heldGet(cache, key, db);
      const unrelated = heldGet(cache, other, db);
      await Promise.all([fill.loaded, unrelated.loaded]);
      expect(await redis.zscore(FILLING_KEY, key)).not.toBeNull(); // registered before loading
      db.value = 'new';
      // SCAN finds no value for either key (nothing was written yet): only the registry knows.
      const applied = await applier.apply([event({ patterns: [`${prefix}user:[0-9]`] })]);
      expect(applied).toMatchObject({ failed: [], leasesRevoked: 1 });
      fill.proceed();
      unrelated.proceed();
      expect(await fill.result).toBe('old'); // the caller still gets what it loaded
      await unrelated.result;
      expect(cache.stats).toMatchObject({ refusedFills: 1, fills: 1 }); // the order was not matched
      expect(await cache.get(key, async () => db.value)).toBe('new');
      expect(await redis.zscore(FILLING_KEY, key)).toBeNull(); // a finished fill leaves the registry
    });

    it('two registrations of one key in the same millisecond get scores of their own', async () => {
      const key = `${prefix}user:same-ms`;
      // Back to back in one MULTI: the same millisecond for certain, never the same microsecond.
      const replies = (await redis
        .multi()
        .eval(registerFill.source, 1, FILLING_KEY, key, 10_000)
        .eval(registerFill.source, 1, FILLING_KEY, key, 10_000)
        .exec())!.map(([, score]) => String(score));
      expect(replies[0]).not.toBe(replies[1]);
      await unregisterFill.run(redis, [FILLING_KEY], [key, replies[0]!]);
      expect(Number(await redis.zscore(FILLING_KEY, key))).toBe(Number(replies[1]));
      await redis.zrem(FILLING_KEY, key);
    });

    it('a fill that lost its lease and the fill that follows keep separate registry entries', async () => {
      const key = `${prefix}user:8`;
      const db = { value: 'a' };
      const cache = new FabricCache(redis, options);
      const first = heldGet(cache, key, db);
      await first.loaded;
      await applier.apply([event({ keys: [key] })]);
      const second = heldGet(cache, key, db);
      await second.loaded;
      first.proceed();
      await first.result; // refused; it must not remove the entry the second fill made
      expect(await redis.zscore(FILLING_KEY, key)).not.toBeNull();
      db.value = 'b';
      await applier.apply([event({ patterns: [`${prefix}user:8*`] })]);
      second.proceed();
      await second.result;
      expect(cache.stats.refusedFills).toBe(2);
      expect(await cache.get(key, async () => db.value)).toBe('b');
    });
  });

  describe('version keys', () => {
    it('a fill never snapshots a missing version key: it creates one from the clock, with the version lifetime', async () => {
      const versionKey = `ver:${prefix}user:1`;
      const cache = new FabricCache(redis, { ...options, versionTtlSeconds: 3600 });
      const before = Date.now() * 1000;
      await cache.get(`${prefix}v:1`, async () => 'x', { versionKey });
      const created = Number(await redis.get(versionKey));
      expect(created).toBeGreaterThanOrEqual(before - 5_000_000); // Redis's clock, µs
      expect(await redis.hget(`${prefix}v:1`, 'v')).toBe(String(created));
      expect(await redis.pttl(versionKey)).toBeGreaterThan(3_590_000);
      // The invalidator's bump continues the same scheme: past the created value.
      await applier.apply([event({ versions: [versionKey] })]);
      expect(Number(await redis.get(versionKey))).toBeGreaterThan(created);
    });

    it('an entry whose version key went away (evicted, lost in a failover) is a miss, not current', async () => {
      const key = `${prefix}v:2`;
      const versionKey = `ver:${prefix}user:2`;
      const db = { value: 'old' };
      const cache = new FabricCache(redis, options);
      expect(await cache.get(key, async () => db.value, { versionKey })).toBe('old');
      db.value = 'new';
      await applier.apply([event({ versions: [versionKey] })]);
      await redis.del(versionKey); // eviction of the version key
      expect(await cache.get(key, async () => db.value, { versionKey })).toBe('new');
      expect(cache.stats.loads).toBe(2);
    });
  });

  describe('stale copies', () => {
    const staleCache = () => new FabricCache(redis, { ...options, staleOk: true, maxStaleSeconds: 90 });

    it('serve a waiter after the value expired, and live at most maxStaleSeconds', async () => {
      const key = `${prefix}s:expired`;
      const cache = staleCache();
      await cache.get(key, async () => 'v1');
      expect(await redis.pttl(staleKey(key))).toBeLessThanOrEqual(90_000);
      await redis.del(key); // the value's TTL ran out; its stale copy outlives it
      const refill = heldGet(cache, key, { value: 'v2' });
      await refill.loaded;
      expect(await cache.get(key, async () => 'not called', { allowStale: true })).toBe('v1');
      refill.proceed();
      expect(await refill.result).toBe('v2');
      expect(cache.stats.staleServed).toBe(1);
    });

    for (const [how, inval] of [
      ['key', (key: string) => ({ keys: [key] })],
      ['tag', () => ({ tags: [`${prefix}team:tag`] })],
      ['pattern', (key: string) => ({ patterns: [`${key}*`] })],
    ] as const) {
      it(`are deleted with their key by a ${how} invalidation: an allowStale waiter never gets the old value`, async () => {
        const key = `${prefix}s:${how}`;
        const cache = staleCache();
        const tags = [`${prefix}team:${how}`];
        await cache.get(key, async () => 'old', { tags });
        expect(await redis.exists(staleKey(key))).toBe(1);
        const applied = await applier.apply([event(inval(key))]);
        expect(applied).toMatchObject({ failed: [], staleDropped: 1 });
        expect(await redis.exists(staleKey(key))).toBe(0);
        const refill = heldGet(cache, key, { value: 'new' }, { tags });
        await refill.loaded;
        const waiter = cache.get(key, async () => 'uncached', { allowStale: true, tags });
        await vi.waitFor(() => expect(cache.stats.misses).toBe(3)); // the waiter is behind the refill
        refill.proceed();
        expect(await waiter).toBe('new');
        expect(cache.stats.staleServed).toBe(0);
      });
    }

    it('filled under an older version are not served once the version moved', async () => {
      const key = `${prefix}s:ver`;
      const versionKey = `ver:${prefix}s`;
      const cache = staleCache();
      await cache.get(key, async () => 'old', { versionKey });
      await applier.apply([event({ versions: [versionKey] })]);
      const refill = heldGet(cache, key, { value: 'new' }, { versionKey });
      await refill.loaded;
      const waiter = cache.get(key, async () => 'uncached', { allowStale: true, versionKey });
      await vi.waitFor(() => expect(cache.stats.misses).toBe(3));
      refill.proceed();
      expect(await waiter).toBe('new');
      expect(cache.stats.staleServed).toBe(0);
    });
  });

  describe('lease tombstones', () => {
    it('refuse the fill in flight and hold new fills until they expire', async () => {
      const key = `${prefix}t:1`;
      const tombstoned = new RedisApplier(redis, pino({ level: 'silent' }), { fillTombstoneMs: 2_000 });
      const cache = new FabricCache(redis, options);
      const db = { value: 'old' };
      const inFlight = heldGet(cache, key, db);
      await inFlight.loaded;
      expect((await tombstoned.apply([event({ keys: [key] })])).leasesRevoked).toBe(1);
      inFlight.proceed();
      await inFlight.result;
      expect(cache.stats.refusedFills).toBe(1);
      const after = cache.get(key, async () => db.value);
      await vi.waitFor(() => expect(cache.stats.tombstoneWaits).toBeGreaterThan(0));
      db.value = 'new'; // what became visible while the tombstone held fills back
      expect(await after).toBe('new');
      expect(await redis.exists(leaseKey(key))).toBe(0);
    });
  });
});
