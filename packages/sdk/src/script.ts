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
      if (!isUnknownScript(err)) throw err;
      return await redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }

  /** The EVALSHA call as pipeline arguments; on NOSCRIPT, load() and send it again. */
  command(keys: readonly string[], args: readonly string[]): ['evalsha', ...string[]] {
    return ['evalsha', this.sha, String(keys.length), ...keys, ...args];
  }

  async load(redis: RedisClient): Promise<void> {
    await redis.script('LOAD', this.source);
  }
}

/** The server does not have the script (restart, failover, SCRIPT FLUSH). */
export function isUnknownScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}
