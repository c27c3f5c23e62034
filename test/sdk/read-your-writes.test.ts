import { randomBytes } from 'node:crypto';
import { commitToken, FabricCache, InvalidationBus } from '@fabric/sdk';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ReaderUnderTest, readerFor } from '../cdc/harness.js';
import { type InvalidatorUnderTest, invalidatorFor } from '../invalidator/harness.js';
import { eventually, withDb } from '../support.js';

/**
 * Read-your-writes by LSN, through the whole path: a write at the home primary, its token
 * (the primary's WAL position right after COMMIT), a read in another region. Readers and
 * invalidators are this file's own; their bus is the region's.
 */
describe('read-your-writes with a commit token', () => {
  const endpoints = inject('endpoints');
  const home = endpoints.regions.find((r) => r.home)!;
  const away = endpoints.regions.find((r) => !r.home)!;
  const id = 8_000_000 + Math.floor(Math.random() * 1_000_000);
  const key = `user:${id}`;
  const parts: Array<{ reader: ReaderUnderTest; invalidator: InvalidatorUnderTest }> = [];
  let redis: Redis;
  let bus: InvalidationBus;
  let cache: FabricCache;

  beforeAll(async () => {
    let port = 32210;
    for (const region of [home, away]) {
      const reader = await readerFor(region, { name: 'ryw', heartbeatMs: region.home ? 300 : 0 });
      await reader.start();
      const invalidator = await invalidatorFor(region, { name: 'ryw', topic: reader.topic, metricsPort: port++ });
      await invalidator.start();
      parts.push({ reader, invalidator });
    }
    redis = new Redis(away.redis.url);
    bus = new InvalidationBus({ redis, region: away.region, topic: parts[1]!.reader.topic });
    await bus.start();
    cache = new FabricCache(redis, { ttlSeconds: 600, ttlJitter: 0, leaseMs: 5_000, waitMs: 1_000, bus });
    await withDb(home, (db) => db.query('insert into teams (id, name) values ($1, $2)', [id, 'red']));
    await withDb(home, (db) =>
      db.query('insert into users (id, team_id, name, email) values ($1, $2, $3, $4)', [
        id,
        id,
        'v0',
        `ryw-${id}@example.com`,
      ]),
    );
    // Every partition reports a watermark once the heartbeats flow.
    await eventually(
      'a region watermark',
      async () => (bus.watermark.current() !== undefined ? true : undefined),
      30_000,
    );
  }, 120_000);
  afterAll(async () => {
    await bus?.stop();
    redis?.disconnect();
    for (const p of parts) {
      await p.invalidator.dispose();
      await p.reader.dispose();
    }
  });

  const readName = () =>
    withDb(away, async (db) => (await db.query('select name from users where id = $1', [id])).rows[0]?.name as string);

  it('a read with the token never returns the value from before the write; one without it can', async () => {
    let withoutStale = 0;
    for (let round = 1; round <= 5; round++) {
      // Cache the current value in the region first.
      const before = `v${round - 1}`;
      await eventually('the previous value cached', async () =>
        (await cache.get(key, readName)) === before ? true : undefined,
      );
      const token = await withDb(home, async (db) => {
        await db.query('update users set name = $1 where id = $2', [`v${round}`, id]);
        return commitToken(db);
      });
      const [plain, fresh] = await Promise.all([
        cache.get(key, readName),
        cache.get(key, readName, { after: token, afterWaitMs: 20_000 }),
      ]);
      if (plain === before) withoutStale++;
      expect(fresh).toBe(`v${round}`);
    }
    process.stderr.write(`[ryw] reads without the token that saw the old value: ${withoutStale}/5\n`);
    expect(withoutStale).toBeGreaterThan(0);
    expect(cache.stats.readThroughs).toBe(0);
  }, 120_000);

  it('without waiting, a read before the region caught up loads without caching', async () => {
    const token = await withDb(home, async (db) => {
      await db.query('update users set name = $1 where id = $2', [`rt-${randomBytes(2).toString('hex')}`, id]);
      return commitToken(db);
    });
    const loads = cache.stats.loads;
    const fills = cache.stats.fills;
    await cache.get(key, readName, { after: token });
    expect(cache.stats.readThroughs).toBe(1);
    expect(cache.stats.loads).toBe(loads + 1);
    expect(cache.stats.fills).toBe(fills);
  });
});
