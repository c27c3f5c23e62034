import { emitInvalidation, FabricCache, tagKey } from '@fabric/sdk';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ReaderUnderTest, readerFor } from '../cdc/harness.js';
import { type InvalidatorUnderTest, invalidatorFor } from '../invalidator/harness.js';
import { eventually, withDb } from '../support.js';

/**
 * The whole path in every region: a write at the home primary replicates to the regional
 * databases, each region's reader publishes to its topic, each region's invalidator clears
 * that region's Redis. Readers and invalidators are this file's own (own slots, topics,
 * groups); the databases, brokers and Redis servers are the sandbox's.
 */
describe('end to end through the sandbox', () => {
  const endpoints = inject('endpoints');
  const id = 7_000_000 + Math.floor(Math.random() * 1_000_000);
  const pipelines: Array<{
    region: (typeof endpoints.regions)[number];
    reader: ReaderUnderTest;
    invalidator: InvalidatorUnderTest;
    redis: Redis;
    cache: FabricCache;
  }> = [];

  beforeAll(async () => {
    for (const region of endpoints.regions) {
      // The home reader also writes the heartbeat that keeps freshness moving when idle.
      const reader = await readerFor(region, { name: 'e2e', heartbeatMs: region.home ? 500 : 0 });
      await reader.start();
      const invalidator = await invalidatorFor(region, { name: 'e2e', topic: reader.topic });
      await invalidator.start();
      const redis = new Redis(region.redis.url);
      pipelines.push({
        region,
        reader,
        invalidator,
        redis,
        cache: new FabricCache(redis, { ttlSeconds: 600, ttlJitter: 0, leaseMs: 5_000, waitMs: 1_000 }),
      });
    }
    // The insert itself invalidates user:<id>; a sentinel there tells when that has happened
    // everywhere, so the fills below are not raced by it.
    for (const p of pipelines) await p.redis.hset(`user:${id}`, 'd', '"sentinel"', 'v', '0');
    const home = endpoints.regions.find((r) => r.home)!;
    await withDb(home, (db) =>
      db.query('insert into teams (id, name) values ($1, $2), ($3, $4)', [id, 'red', id + 1, 'blue']),
    );
    await withDb(home, (db) =>
      db.query('insert into users (id, team_id, name, email) values ($1, $2, $3, $4)', [
        id,
        id,
        'Ada',
        `ada-${id}@example.com`,
      ]),
    );
    for (const p of pipelines)
      await eventually(
        `insert applied in ${p.region.region}`,
        async () => ((await p.redis.exists(`user:${id}`)) === 0 ? true : undefined),
        30_000,
      );
  }, 120_000);
  afterAll(async () => {
    for (const p of pipelines) {
      await p.invalidator.dispose();
      await p.reader.dispose();
      p.redis.disconnect();
    }
  });

  /** Cache-aside read of the user's name from the region's own database, as an application would. */
  const readName = (p: (typeof pipelines)[number]) =>
    p.cache.get(
      `user:${id}`,
      () =>
        withDb(
          p.region,
          async (db) =>
            (await db.query('select name from users where id = $1', [id])).rows[0]?.name as string | undefined,
        ),
      {
        tags: [`team:${id}:members`],
      },
    );

  it('an update at the primary removes the key from every region, and the next read is fresh', async () => {
    // Each region caches the row once it has replicated there.
    for (const p of pipelines)
      await eventually(`${p.region.region} cached Ada`, async () => ((await readName(p)) === 'Ada' ? true : undefined));
    for (const p of pipelines) expect(await p.redis.exists(`user:${id}`)).toBe(1);

    const home = endpoints.regions.find((r) => r.home)!;
    const committed = Date.now();
    await withDb(home, (db) => db.query('update users set name = $2 where id = $1', [id, 'Grace']));
    const gone = await Promise.all(
      pipelines.map(async (p) => {
        await eventually(
          `user:${id} gone in ${p.region.region}`,
          async () => ((await p.redis.exists(`user:${id}`)) === 0 ? true : undefined),
          30_000,
        );
        return [p.region.region, Date.now() - committed] as const;
      }),
    );
    process.stderr.write(`[e2e] update at primary -> key gone: ${gone.map(([r, ms]) => `${r} ${ms} ms`).join(', ')}\n`);
    for (const p of pipelines) expect(await readName(p)).toBe('Grace');
  });

  it('moving a user to another team expands the old team tag in every region', async () => {
    const member = `team:${id}:member-list`;
    for (const p of pipelines) await p.cache.get(member, async () => 'Grace', { tags: [`team:${id}:members`] });
    // Cached and registered under the old team's tag, so only the tag expansion can remove it.
    for (const p of pipelines) {
      expect(await p.redis.exists(member), p.region.region).toBe(1);
      expect(await p.redis.sismember(tagKey(`team:${id}:members`), member), p.region.region).toBe(1);
    }
    const home = endpoints.regions.find((r) => r.home)!;
    await withDb(home, (db) => db.query('update users set team_id = $2 where id = $1', [id, id + 1]));
    for (const p of pipelines)
      await eventually(
        `${member} gone in ${p.region.region}`,
        async () => ((await p.redis.exists(member)) === 0 ? true : undefined),
        30_000,
      );
  });

  it('an explicit invalidation in the application transaction reaches every region', async () => {
    const derived = `report:team:${id}`;
    for (const p of pipelines) await p.redis.hset(derived, 'd', '"cached report"', 'v', '1');
    for (const p of pipelines) expect(await p.redis.exists(derived), p.region.region).toBe(1);
    const home = endpoints.regions.find((r) => r.home)!;
    await withDb(home, async (db) => {
      await db.query('begin');
      await db.query('update teams set name = $2 where id = $1', [id, 'crimson']);
      await emitInvalidation(db, { keys: [derived] }, 'message');
      await db.query('commit');
    });
    for (const p of pipelines)
      await eventually(
        `${derived} gone in ${p.region.region}`,
        async () => ((await p.redis.exists(derived)) === 0 ? true : undefined),
        30_000,
      );
  });

  it('keeps every region fresh through heartbeats while idle', async () => {
    for (const p of pipelines) {
      await eventually(
        `${p.region.region} freshness under 5 s`,
        async () => {
          const s = (await p.invalidator.health()).freshnessSeconds;
          return typeof s === 'number' && s < 5 ? true : undefined;
        },
        20_000,
      );
    }
  });
});
