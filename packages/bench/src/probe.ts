// Per-region commit→applied probe: Redis keyspace notifications on user:<id>; each
// invalidation is matched with the pending commit of that id, then the key is refilled
// so the next write to it is measured again.
import { Redis, type RedisOptions } from 'ioredis';

const PATTERN = '__keyspace@0__:user:*';
const PREFIX = '__keyspace@0__:';
const KEY = /^user:(\d+)$/;
const CLIENT: RedisOptions = { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 2000, retryStrategy: () => 100, lazyConnect: true };

export class RegionProbe {
  /** id -> commit time (performance.now()) */
  readonly pending = new Map<number, number>();
  /** id -> latest committed value (for refill) */
  readonly values = new Map<number, string>();
  private samples: number[] = [];
  unmatched = 0;
  overlapped = 0;
  missed = 0;
  /** Refill each invalidated key (off while the baselines time themselves). */
  refill = true;
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
    const t = performance.now();
    const id = Number(m[1]);
    const committed = this.pending.get(id);
    if (committed === undefined) this.unmatched++;
    else {
      this.samples.push(t - committed);
      this.pending.delete(id);
    }
    if (this.refill) this.redis.set(`user:${id}`, this.values.get(id) ?? 'x').catch(() => {});
  }

  onCommit(ids: readonly number[], names: readonly string[], t: number): void {
    ids.forEach((id, i) => {
      this.values.set(id, names[i] ?? '');
      if (this.pending.has(id)) this.overlapped++;
      else this.pending.set(id, t);
    });
  }

  /** Changes committed and not yet invalidated here; entries older than maxAgeMs count as missed. */
  backlog(maxAgeMs = 30_000): number {
    const now = performance.now();
    for (const [id, t] of this.pending) {
      if (now - t > maxAgeMs) {
        this.pending.delete(id);
        this.missed++;
      }
    }
    return this.pending.size;
  }

  /** The latency samples (ms) since the last call. */
  takeSamples(): number[] {
    const s = this.samples;
    this.samples = [];
    return s;
  }

  resetCounters(): void {
    this.unmatched = 0;
    this.overlapped = 0;
    this.missed = 0;
    this.pending.clear();
    this.samples = [];
  }
}
