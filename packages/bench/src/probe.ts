// Per-region commit→applied probe: Redis keyspace notifications on the version keys. Each
// invalidation of a user row bumps ver:user:<id> (the version script SETs it; INCR before
// the never-repeating scheme) in the same pipeline as, and after, the UNLINK of its keys, so
// that notification marks the change applied in the region whether or not the key was
// cached, and nothing has to be refilled between writes.
import { Redis, type RedisOptions } from 'ioredis';
import { CommitMatcher } from './commit-matcher.js';

/** `K` keyspace channel, `$` string commands (SET, INCR). */
export const PROBE_EVENTS = 'K$';
export const PROBE_PATTERN = '__keyspace@0__:ver:user:*';
const PREFIX = '__keyspace@0__:';
const KEY = /^ver:user:(\d+)$/;
const CLIENT: RedisOptions = {
  maxRetriesPerRequest: 1,
  enableOfflineQueue: false,
  commandTimeout: 2000,
  retryStrategy: () => 100,
  lazyConnect: true,
};

export class RegionProbe {
  readonly matcher = new CommitMatcher();
  private readonly redis: Redis;
  private readonly sub: Redis;

  constructor(
    readonly region: string,
    redisUrl: string,
  ) {
    this.redis = new Redis(redisUrl, CLIENT);
    this.sub = new Redis(redisUrl, {
      ...CLIENT,
      maxRetriesPerRequest: null,
      commandTimeout: undefined,
      enableOfflineQueue: true,
    });
  }

  async open(): Promise<void> {
    for (const c of [this.redis, this.sub]) c.on('error', () => {});
    // A restarted Redis comes back with the default config: enable notifications again.
    this.redis.on('ready', () => void this.redis.config('SET', 'notify-keyspace-events', PROBE_EVENTS).catch(() => {}));
    await this.redis.connect();
    await this.redis.config('SET', 'notify-keyspace-events', PROBE_EVENTS);
    await this.sub.connect();
    this.sub.on('pmessage', (_pattern: string, channel: string, event: string) => this.onEvent(channel, event));
    await this.sub.psubscribe(PROBE_PATTERN);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    this.sub.disconnect();
  }

  private onEvent(channel: string, event: string): void {
    // `set` from the invalidator's version script; `incrby` from an invalidator of before it.
    if (event !== 'set' && event !== 'incrby') return;
    const m = KEY.exec(channel.slice(PREFIX.length));
    if (m) this.matcher.invalidated(Number(m[1]), performance.now());
  }

  onCommit(ids: readonly number[], t: number): void {
    for (const id of ids) this.matcher.committed(id, t);
  }

  /** Changes committed and not yet invalidated here; entries older than maxAgeMs count as missed. */
  backlog(maxAgeMs = 30_000): number {
    return this.matcher.backlog(performance.now(), maxAgeMs);
  }

  /** The latency samples (ms) since the last call. */
  takeSamples(): number[] {
    return this.matcher.takeSamples();
  }

  resetCounters(): void {
    this.matcher.reset();
  }
}
