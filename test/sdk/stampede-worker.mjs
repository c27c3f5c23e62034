// One application process of the cross-process stampede test (l2-correctness.test.ts): it
// reads "<key> <counter key> <versioned 0|1>" lines on stdin, fires GETS concurrent gets of that key through
// its own FabricCache, and answers one JSON line with what the gets returned. The loader
// counts itself in Redis (INCR), so loads are counted across every process.
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { FabricCache } from '@fabric/sdk';
import { Redis } from 'ioredis';

const redis = new Redis(process.env.REDIS_URL);
const gets = Number(process.env.GETS ?? 50);
const cache = new FabricCache(redis, { ttlSeconds: 60, ttlJitter: 0, leaseMs: 10_000, waitMs: 10_000 });

for await (const line of createInterface({ input: process.stdin })) {
  const [key, counter, versioned] = line.trim().split(' ');
  if (!key || !counter) continue;
  const loader = async () => {
    await redis.incr(counter);
    // Loads of a few ms land between a waiter's polls, where a read-then-SET-NX waiter
    // finds the value not yet written and the lease already dropped.
    await sleep(Math.random() * 8);
    return { key, n: 1 };
  };
  const opts = versioned === '1' ? { versionKey: `ver:${key}` } : {};
  const values = await Promise.all(Array.from({ length: gets }, () => cache.get(key, loader, opts)));
  process.stdout.write(`${JSON.stringify({ key, ok: values.every((v) => v.key === key), stats: cache.stats })}\n`);
}
redis.disconnect();
