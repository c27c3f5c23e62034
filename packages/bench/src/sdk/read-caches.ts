// The read-side contenders of the SDK phase behind one interface: the fabric's FabricCache
// and bentocache, each set up the way its documentation recommends, on the same Redis.

import { FabricCache, InvalidationBus, L1Cache, VALUE_FIELD } from '@fabric/sdk';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';
import { Redis, type RedisOptions } from 'ioredis';

export const CONTENDERS = ['fabric', 'fabric-l1', 'bentocache-l2', 'bentocache-l1'] as const;
export type ContenderName = (typeof CONTENDERS)[number];

export interface ReadCache {
  readonly name: ContenderName;
  /** Cache-aside read: the cached value, or load() filled in. */
  get(key: string, load: () => Promise<string>): Promise<string>;
  /** What a reader would be served now without loading; undefined when it would miss. */
  peek(key: string): Promise<string | undefined>;
  /**
   * What the application does after its COMMIT. bentocache: delete the keys, the best a
   * bentocache user can do. The fabric: nothing, its invalidator deletes them from the WAL.
   */
  afterCommit(keys: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export interface ReadCacheOptions {
  redisUrl: string;
  ttlSeconds: number;
  /** The Redis's region: fabric-l1 listens to its invalidators' bus. */
  region: string;
  /** Where the bus (the L1 contenders') connects instead of redisUrl, e.g. through a cuttable proxy. */
  busRedisUrl?: string;
}

function redisOptions(url: string): RedisOptions {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379), maxRetriesPerRequest: 3 };
}

/**
 * The fabric's SDK with fill leases (its default). Keys are the key rules' `user:<id>`. With
 * l1: an in-process L1 kept in step by the invalidators' bus (they publish what they deleted).
 */
async function fabricCache(name: 'fabric' | 'fabric-l1', o: ReadCacheOptions): Promise<ReadCache> {
  const redis = new Redis(o.redisUrl, { lazyConnect: true });
  await redis.connect();
  let l1: L1Cache | undefined;
  let bus: InvalidationBus | undefined;
  if (name === 'fabric-l1') {
    l1 = new L1Cache({ maxEntries: 100_000, maxBytes: 64 * 1024 * 1024, maxTtlMs: o.ttlSeconds * 1000 });
    const subscriber = new Redis(o.busRedisUrl ?? o.redisUrl, { lazyConnect: true });
    bus = new InvalidationBus({ redis, region: o.region, subscriber });
    await bus.start();
  }
  const cache = new FabricCache(redis, {
    ttlSeconds: o.ttlSeconds,
    ttlJitter: 0,
    leaseMs: 10_000,
    waitMs: 5_000,
    l1,
    bus,
  });
  return {
    name,
    get: (key, load) => cache.get(key, load),
    async peek(key) {
      const near = bus?.live ? l1?.get(key) : undefined;
      const payload = near ?? (await redis.hget(key, VALUE_FIELD));
      return payload === null ? undefined : (JSON.parse(payload) as string);
    },
    afterCommit: async () => {},
    async close() {
      await bus?.stop();
      redis.disconnect();
    },
  };
}

/**
 * bentocache: L2 = Redis; with l1, an in-memory L1 and the Redis bus that tells the other
 * instances' L1 about deletes. Each contender has its own prefix: the fabric's key rules
 * never touch bentocache's keys, so bentocache lives only by its own deletes.
 */
async function bentoCache(name: 'bentocache-l2' | 'bentocache-l1', o: ReadCacheOptions): Promise<ReadCache> {
  const store = bentostore({ prefix: name });
  if (name === 'bentocache-l1') store.useL1Layer(memoryDriver({ maxItems: 100_000 }));
  store.useL2Layer(redisDriver({ connection: redisOptions(o.redisUrl) }));
  if (name === 'bentocache-l1') store.useBus(redisBusDriver({ connection: redisOptions(o.busRedisUrl ?? o.redisUrl) }));
  const bento = new BentoCache({ default: 'cache', stores: { cache: store }, ttl: `${o.ttlSeconds}s` });
  const cache = bento.use('cache');
  // The bus subscribes on first use; a get on a throwaway key brings it up before any trial.
  await cache.getOrSet({ key: '__bench_warm', factory: () => 'x' });
  return {
    name,
    get: (key, load) => cache.getOrSet({ key, factory: load }),
    peek: (key) => cache.get<string | undefined>({ key }),
    async afterCommit(keys) {
      await cache.deleteMany({ keys: [...keys] });
    },
    async close() {
      await bento.disconnectAll();
    },
  };
}

export function openReadCache(name: ContenderName, o: ReadCacheOptions): Promise<ReadCache> {
  return name === 'fabric' || name === 'fabric-l1' ? fabricCache(name, o) : bentoCache(name, o);
}
