// Per-region commit→applied probe: Redis keyspace notifications on user:<id>; each
// invalidation is matched with the pending commit of that id, then the key is refilled
// so the next write to it is measured again.
import { Redis } from 'ioredis';

const PATTERN = '__keyspace@0__:user:*';
const PREFIX = '__keyspace@0__:';
const KEY = /^user:(\d+)$/;

export class RegionProbe {
  constructor(region, redisUrl) {
    this.region = region;
    this.url = redisUrl;
    this.pending = new Map(); // id -> commit time (performance.now())
    this.values = new Map(); // id -> latest committed value (for refill)
    this.samples = [];
    this.unmatched = 0;
    this.overlapped = 0;
    this.missed = 0;
    this.refill = true;
  }

  async open() {
    const opts = { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 2000, retryStrategy: () => 100, lazyConnect: true };
    this.redis = new Redis(this.url, opts);
    this.sub = new Redis(this.url, { ...opts, maxRetriesPerRequest: null, commandTimeout: undefined, enableOfflineQueue: true });
    for (const c of [this.redis, this.sub]) c.on('error', () => {});
    // A restarted Redis comes back with the default config: enable notifications again.
    this.redis.on('ready', () => void this.redis.config('SET', 'notify-keyspace-events', 'Kg').catch(() => {}));
    await this.redis.connect();
    await this.redis.config('SET', 'notify-keyspace-events', 'Kg');
    await this.sub.connect();
    this.sub.on('pmessage', (_p, channel, event) => this.onEvent(channel, event));
    await this.sub.psubscribe(PATTERN);
  }

  async close() {
    this.redis.disconnect();
    this.sub.disconnect();
  }

  onEvent(channel, event) {
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

  onCommit(ids, names, t) {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      this.values.set(id, names[i]);
      if (this.pending.has(id)) this.overlapped++;
      else this.pending.set(id, t);
    }
  }

  /** Changes committed and not yet invalidated here; entries older than maxAgeMs count as missed. */
  backlog(maxAgeMs = 30_000) {
    const now = performance.now();
    for (const [id, t] of this.pending) {
      if (now - t > maxAgeMs) {
        this.pending.delete(id);
        this.missed++;
      }
    }
    return this.pending.size;
  }

  takeSamples() {
    const s = this.samples;
    this.samples = [];
    return s;
  }

  resetCounters() {
    this.unmatched = 0;
    this.overlapped = 0;
    this.missed = 0;
    this.pending.clear();
    this.samples = [];
  }
}

/** Writes user:<id> = value for every id, pipelined. */
export async function fillKeys(redis, entries) {
  const CHUNK = 2000;
  for (let i = 0; i < entries.length; i += CHUNK) {
    const p = redis.pipeline();
    for (const [id, v] of entries.slice(i, i + CHUNK)) p.set(`user:${id}`, v);
    await p.exec();
  }
}
