import { RedisApplier } from '@fabric/invalidator';
import { FabricCache, tagKey } from '@fabric/sdk';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cleanup, event, uniquePrefix } from '../sdk/helpers.js';

const prefix = uniquePrefix('tagb');
const options = { ttlSeconds: 60, ttlJitter: 0, leaseMs: 10_000, waitMs: 1_000 };

// A batch of changes to one team's rows names the team's tag in every event: one expansion
// serves them all, and a failure of that expansion is a failure of each of them.
describe('a tag named by many events of one batch', () => {
  const { host, port } = inject('endpoints').regions[0]!.redis;
  let redis: Redis;
  let applier: RedisApplier;
  let cache: FabricCache;

  beforeAll(async () => {
    redis = new Redis({ host, port, lazyConnect: true });
    await redis.connect();
    applier = new RedisApplier(redis, pino({ level: 'silent' }), { pageSize: 7 });
    cache = new FabricCache(redis, options);
  });
  afterAll(async () => {
    await cleanup(redis, prefix);
    redis.disconnect();
  });

  it('is expanded once, and every member and every named key is gone', async () => {
    const tag = `${prefix}team:1`;
    const members = Array.from({ length: 20 }, (_, i) => `${prefix}member:${i}`);
    for (const m of members) await cache.get(m, async () => `v ${m}`, { tags: [tag] });
    const own = Array.from({ length: 40 }, (_, i) => `${prefix}user:${i}`);
    for (const k of own) await redis.set(k, 'cached');

    const result = await applier.apply(own.map((k) => event({ keys: [k], tags: [tag] })));
    expect(result).toMatchObject({ tagsExpanded: 1, keysUnlinked: 60, failed: [] });
    expect(await redis.exists(...members, ...own, tagKey(tag))).toBe(0);
  });

  it('fails every event naming a tag that cannot expand, and only those', async () => {
    const broken = `${prefix}team:broken`;
    const fine = `${prefix}team:fine`;
    // Not a set: SSCAN answers WRONGTYPE, an error of this data.
    await redis.set(tagKey(broken), 'not a set');
    const keys = [0, 1, 2].map((i) => `${prefix}k:${i}`);
    for (const k of keys) await redis.set(k, 'cached');
    const result = await applier.apply([
      event({ keys: [keys[0]!], tags: [broken] }),
      event({ keys: [keys[1]!], tags: [fine] }),
      event({ keys: [keys[2]!], tags: [fine, broken] }),
    ]);
    expect(result.failed.map((f) => [f.index, f.error.stage])).toEqual([
      [0, 'tag'],
      [2, 'tag'],
    ]);
    // What could be applied is: the named keys go in the same pipeline as the tag's page
    // (deleting them again on the retry, or on a replay of the dead letter, is harmless).
    expect(await redis.exists(...keys)).toBe(0);
  });
});
