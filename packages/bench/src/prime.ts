// Before measuring: seed the users at the primary, let the fabric drain the seed, fill
// every region's cache with the current values and start the probes on them.
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { BenchContext } from './context.js';
import { fillKeys } from './fill-keys.js';
import { currentValues, seedUsers } from './seed.js';
import { waitFor } from './wait.js';

export async function primeCaches({ home, regions, probes, kafkaLag, progress, opts }: BenchContext): Promise<void> {
  progress(`seeding ${opts.rows} users at the primary`);
  await seedUsers(home, regions, opts.rows, progress);
  progress('waiting for the fabric to drain the seed');
  await waitFor(() => kafkaLag.drained(regions.map((r) => r.region)), 120_000, 500);
  await sleep(2000);
  const values = await currentValues(home.postgres.url, opts.rows);
  for (const r of regions) {
    const redis = new Redis(r.redis.url);
    await fillKeys(redis, [...values]);
    redis.disconnect();
  }
  for (const p of probes.values()) await p.open();
}
