import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cleanup, uniquePrefix } from '../sdk/helpers.js';
import { eventually } from '../support.js';
import { groupLag, type InvalidatorUnderTest, invalidation, invalidatorFor, producerFor } from './harness.js';

/** Processing rounds the invalidator went through: its apply-batch histogram's count. */
const rounds = async (inv: InvalidatorUnderTest): Promise<number> =>
  Number(/^fabric_inval_apply_batch_size_count(?:\{[^}]*\})? (\d+)/m.exec(await inv.metrics())?.[1] ?? Number.NaN);

/**
 * Two real invalidators, each on a topic of its own, fed the same steady stream at once:
 * one fetching again at once after every batch, one holding the next fetch 200 ms after a
 * small batch. The lingering one applies the same events in far fewer rounds, and all of them.
 */
describe('fetch linger', () => {
  const region = inject('endpoints').regions[2]!;
  const prefix = uniquePrefix('linger');
  let redis: Redis;
  let eager: InvalidatorUnderTest;
  let lingering: InvalidatorUnderTest;
  let producer: Awaited<ReturnType<typeof producerFor>>;

  beforeAll(async () => {
    redis = new Redis(region.redis.url);
    eager = await invalidatorFor(region, { name: 'eager', extraArgs: ['--fetch-linger-ms', '0'] });
    lingering = await invalidatorFor(region, { name: 'lingering', extraArgs: ['--fetch-linger-ms', '200'] });
    await Promise.all([eager.start(), lingering.start()]);
    producer = await producerFor(region);
  });
  afterAll(async () => {
    await eager?.dispose();
    await lingering?.dispose();
    await producer?.disconnect();
    await cleanup(redis, prefix);
    redis.disconnect();
  });

  it('applies a steady stream in rounds of what came meanwhile, not a round per send', async () => {
    const before = [await rounds(eager), await rounds(lingering)];
    const keys: string[] = [];
    const ends = Date.now() + 3_000;
    for (let i = 0; Date.now() < ends; i++) {
      const key = `${prefix}user:${i}`;
      keys.push(key);
      await redis.set(key, 'cached');
      await Promise.all([eager, lingering].map((inv) => producer.publish(inv.topic, [invalidation({ keys: [key] })])));
      await sleep(4);
    }
    for (const inv of [eager, lingering])
      await eventually(`${inv.groupId} applied all`, async () =>
        (await groupLag(region, inv.groupId, inv.topic)) === 0 ? true : undefined,
      );
    expect(await redis.exists(...keys)).toBe(0);
    const [eagerRounds, lingeringRounds] = [(await rounds(eager)) - before[0]!, (await rounds(lingering)) - before[1]!];
    process.stderr.write(
      `[linger] ${keys.length} sends over 3 s: ${eagerRounds} rounds at once, ${lingeringRounds} with a 200 ms linger\n`,
    );
    expect(keys.length).toBeGreaterThan(100);
    // At once: about a round per send. Lingering: at most one per 200 ms (15 in 3 s) per partition of the three.
    expect(eagerRounds).toBeGreaterThan(keys.length / 2);
    expect(lingeringRounds).toBeLessThan(eagerRounds / 2);
  });
});
