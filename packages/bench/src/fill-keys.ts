// Fills a region's cache: user:<id> = value for every id, pipelined.
import type { Redis } from 'ioredis';

const CHUNK = 2000;

export async function fillKeys(redis: Redis, entries: ReadonlyArray<readonly [number, string]>): Promise<void> {
  for (let i = 0; i < entries.length; i += CHUNK) {
    const p = redis.pipeline();
    for (const [id, v] of entries.slice(i, i + CHUNK)) p.set(`user:${id}`, v);
    await p.exec();
  }
}
