import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/** A standalone Redis or a Redis Cluster; everything here works with both. */
export type RedisClient = Redis | Cluster;

/**
 * A Lua script run by EVALSHA, loaded with EVAL on NOSCRIPT. Redis may drop its script cache
 * (restart, failover, SCRIPT FLUSH), so the fallback is needed on every call, not just once.
 * In a cluster every key in `keys` must hash to one slot; ioredis routes by the first.
 */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: RedisClient, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return await redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
