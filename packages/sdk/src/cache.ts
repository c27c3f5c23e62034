import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CacheOptionsError, CacheSerializationError } from './errors.js';
import { DEFAULT_VERSION_TTL_SECONDS, leaseKey, staleKey, tagKey, VALUE_FIELD, VERSION_FIELD } from './layout.js';
import type { RedisClient } from './script.js';
import { acquireLease, fillIfLeased, registerTag, releaseLease } from './scripts.js';
import { jsonSerializer, type Serializer } from './serializer.js';

export interface FabricCacheOptions {
  ttlSeconds: number;
  /** 0..1: each fill's TTL is up to this fraction shorter, so keys filled together do not expire together. */
  ttlJitter: number;
  /** How long a filler may take; a fill after the lease expired is refused, never written. */
  leaseMs: number;
  /** How long a caller that found another filler's lease waits for its value before loading uncached. */
  waitMs: number;
  /** Keep a stale copy of every fill (at stale:{key}) that waiters may serve; default false. */
  staleOk?: boolean;
  /**
   * The invalidator's --version-ttl-seconds (default the same, 7 days): ttlSeconds must stay
   * below it, or an entry filled before a version key existed could outlive that key.
   */
  versionTtlSeconds?: number;
  /** Lifetime of stale copies; default 4 × ttlSeconds. */
  staleTtlSeconds?: number;
  serializer?: Serializer;
  /**
   * false: plain unconditional fills without leases. Only a baseline that shows the
   * read-populates-stale race; never use it in production. Default true.
   */
  leases?: boolean;
}

export interface GetOptions {
  /** Tags this key belongs to; invalidating a tag deletes the key. */
  tags?: string[];
  /** A version counter (e.g. ver:user:42): a cached value filled under an older version is a miss. */
  versionKey?: string;
  /** Serve the stale copy while another caller fills; default the cache's staleOk. */
  allowStale?: boolean;
}

/** Counters for observability and tests. */
export interface CacheStats {
  hits: number;
  misses: number;
  loads: number;
  fills: number;
  /** Fills refused because the lease was revoked (invalidated meanwhile) or had expired. */
  refusedFills: number;
  staleServed: number;
  /** Loads done without caching after waitMs passed behind another filler. */
  uncachedLoads: number;
}

type Read = { found: true; value: unknown } | { found: false };

const MAX_POLL_MS = 50;

/**
 * Cache-aside with fill leases (layout in layout.ts). A miss takes the key's lease, registers
 * the key in its tags and snapshots its version BEFORE loading, so any invalidation applied
 * while the loader runs either deletes the lease (the fill is refused) or moves the version
 * (the filled value reads as a miss). Whoever finds the lease taken waits for that fill
 * instead of loading too, which is the stampede protection.
 */
export class FabricCache {
  readonly stats: CacheStats = {
    hits: 0,
    misses: 0,
    loads: 0,
    fills: 0,
    refusedFills: 0,
    staleServed: 0,
    uncachedLoads: 0,
  };
  private readonly serializer: Serializer;
  private readonly staleTtlMs: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly opts: FabricCacheOptions,
  ) {
    if (!(opts.ttlSeconds > 0)) throw new CacheOptionsError(`ttlSeconds must be > 0, got ${opts.ttlSeconds}`);
    const versionTtl = opts.versionTtlSeconds ?? DEFAULT_VERSION_TTL_SECONDS;
    if (!(opts.ttlSeconds < versionTtl))
      throw new CacheOptionsError(
        `ttlSeconds must be below versionTtlSeconds (${versionTtl}, the invalidator's --version-ttl-seconds), got ${opts.ttlSeconds}: shorten it or raise both`,
      );
    if (!(opts.ttlJitter >= 0 && opts.ttlJitter <= 1))
      throw new CacheOptionsError(`ttlJitter must be within 0..1, got ${opts.ttlJitter}`);
    if (!(opts.leaseMs > 0)) throw new CacheOptionsError(`leaseMs must be > 0, got ${opts.leaseMs}`);
    if (!(opts.waitMs >= 0)) throw new CacheOptionsError(`waitMs must be >= 0, got ${opts.waitMs}`);
    this.serializer = opts.serializer ?? jsonSerializer;
    this.staleTtlMs = opts.staleOk ? Math.round((opts.staleTtlSeconds ?? opts.ttlSeconds * 4) * 1000) : 0;
  }

  async get<T>(key: string, loader: () => Promise<T>, opts: GetOptions = {}): Promise<T> {
    const first = await this.read(key, opts.versionKey);
    if (first.found) return this.hit<T>(first);
    this.stats.misses++;
    if (this.opts.leases === false) return this.fillWithoutLease(key, loader, opts);

    const lease = leaseKey(key);
    const deadline = Date.now() + this.opts.waitMs;
    let pause = 5;
    for (;;) {
      const token = randomUUID();
      const [taken, stale] = (await acquireLease.run(
        this.redis,
        [lease, staleKey(key)],
        [token, this.opts.leaseMs],
      )) as [number, string | null | undefined];
      if (taken === 1) return this.fill(key, token, loader, opts);
      if ((opts.allowStale ?? this.opts.staleOk) && typeof stale === 'string') {
        this.stats.staleServed++;
        return this.serializer.deserialize(stale) as T;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        // The other filler is slow or gone; answering beats waiting for its lease to expire.
        this.stats.uncachedLoads++;
        this.stats.loads++;
        return loader();
      }
      await sleep(Math.min(pause, left));
      pause = Math.min(pause * 2, MAX_POLL_MS);
      const again = await this.read(key, opts.versionKey);
      if (again.found) return this.hit<T>(again);
    }
  }

  private hit<T>(read: { found: true; value: unknown }): T {
    this.stats.hits++;
    return read.value as T;
  }

  private async read(key: string, versionKey: string | undefined): Promise<Read> {
    const [[payload, version], current] = await Promise.all([
      this.redis.hmget(key, VALUE_FIELD, VERSION_FIELD),
      versionKey === undefined ? Promise.resolve(null) : this.redis.get(versionKey),
    ]);
    if (payload === null || payload === undefined) return { found: false };
    if (versionKey !== undefined && version !== (current ?? '0')) return { found: false };
    return { found: true, value: this.serializer.deserialize(payload) };
  }

  /** Registration and version snapshot come before the load; see the class comment. */
  private async prepare(key: string, opts: GetOptions): Promise<string> {
    const tagTtlMs = this.opts.ttlSeconds * 1000 + this.opts.leaseMs;
    await Promise.all((opts.tags ?? []).map((tag) => registerTag.run(this.redis, [tagKey(tag)], [key, tagTtlMs])));
    return opts.versionKey === undefined ? '' : ((await this.redis.get(opts.versionKey)) ?? '0');
  }

  private async fill<T>(key: string, token: string, loader: () => Promise<T>, opts: GetOptions): Promise<T> {
    let value: T;
    let payload: string;
    let version: string;
    try {
      version = await this.prepare(key, opts);
      this.stats.loads++;
      value = await loader();
      payload = this.serialize(key, value);
    } catch (err) {
      // Waiters should not sit out the whole lease behind a filler that already failed.
      await releaseLease.run(this.redis, [leaseKey(key)], [token]).catch(() => undefined);
      throw err;
    }
    const written = await fillIfLeased.run(
      this.redis,
      [key, leaseKey(key), staleKey(key)],
      [token, payload, version, this.ttlMs(), this.staleTtlMs],
    );
    if (written === 1) this.stats.fills++;
    else this.stats.refusedFills++;
    return value;
  }

  private async fillWithoutLease<T>(key: string, loader: () => Promise<T>, opts: GetOptions): Promise<T> {
    const version = await this.prepare(key, opts);
    this.stats.loads++;
    const value = await loader();
    const fields: string[] = [VALUE_FIELD, this.serialize(key, value)];
    if (version !== '') fields.push(VERSION_FIELD, version);
    await this.redis
      .multi()
      .del(key)
      .hset(key, ...fields)
      .pexpire(key, this.ttlMs())
      .exec();
    this.stats.fills++;
    return value;
  }

  private serialize(key: string, value: unknown): string {
    const text = this.serializer.serialize(value);
    if (text === undefined)
      throw new CacheSerializationError(key, 'the serializer returned nothing (JSON cannot store undefined)');
    return text;
  }

  /** Jitter only shortens, so ttlSeconds stays an upper bound on a value's lifetime. */
  private ttlMs(): number {
    return Math.max(1, Math.round(this.opts.ttlSeconds * 1000 * (1 - this.opts.ttlJitter * Math.random())));
  }
}
