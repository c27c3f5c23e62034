// Per-region commit→applied probe: Redis keyspace notifications on user:<id>; each
// invalidation is matched with the pending commit of that id, then the key is refilled
// so the next write to it is measured again.
import { Redis, type RedisOptions } from 'ioredis';
import { CommitMatcher } from './commit-matcher.js';

const PATTERN = '__keyspace@0__:user:*';
const PREFIX = '__keyspace@0__:';
const KEY = /^user:(\d+)$/;
const CLIENT: RedisOptions = { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 2000, retryStrategy: () => 100, lazyConnect: true };

export class RegionProbe {
  readonly matcher = new CommitMatcher();
  /** id -> latest committed value (for refill) */
  readonly values = new Map<number, string>();
  /** Refill each invalidated key (off while the baselines time themselves). */
  refill = true;
  /**
   * Refills Redis refused or timed out. A key not refilled is not cached when its next
   * invalidation comes, which then makes no notification: that write shows as never observed.
   */
  refillErrors = 0;
  private readonly redis: Redis;
  private readonly sub: Redis;

  constructor(
    readonly region: string,
    redisUrl: string,
  ) {
    this.redis = new Redis(redisUrl, CLIENT);
    this.sub = new Redis(redisUrl, { ...CLIENT, maxRetriesPerRequest: null, commandTimeout: undefined, enableOfflineQueue: true });
  }

  async open(): Promise<void> {
    for (const c of [this.redis, this.sub]) c.on('error', () => {});
    // A restarted Redis comes back with the default config: enable notifications again.
    this.redis.on('ready', () => void this.redis.config('SET', 'notify-keyspace-events', 'Kg').catch(() => {}));
    await this.redis.connect();
    await this.redis.config('SET', 'notify-keyspace-events', 'Kg');
    await this.sub.connect();
    this.sub.on('pmessage', (_pattern: string, channel: string, event: string) => this.onEvent(channel, event));
    await this.sub.psubscribe(PATTERN);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    this.sub.disconnect();
  }

  private onEvent(channel: string, event: string): void {
    if (event !== 'del' && event !== 'unlink') return;
    const m = KEY.exec(channel.slice(PREFIX.length));
    if (!m) return;
    const id = Number(m[1]);
    this.matcher.invalidated(id, performance.now());
    if (this.refill) this.redis.set(`user:${id}`, this.values.get(id) ?? 'x').catch(() => this.refillErrors++);
  }

  onCommit(ids: readonly number[], names: readonly string[], t: number): void {
    ids.forEach((id, i) => {
      this.values.set(id, names[i] ?? '');
      this.matcher.committed(id, t);
    });
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
    this.refillErrors = 0;
  }
}
