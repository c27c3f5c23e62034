// Structure: cache.ts orchestrates a get (waiting, stale, baseline); the Redis steps of the
// protocol (read, lease, fill registration, guarded write) are in l2.ts. Policies and other
// levels plug in here, around the L2 calls, not inside them.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { InvalidationBus } from './bus.js';
import type { CommitToken } from './consistency/commit-token.js';
import { LoadDurations, shouldRefreshEarly } from './early-refresh.js';
import type { CacheEntry, StaleReason } from './entry.js';
import { CacheLoaderTimeoutError, CacheOptionsError, CacheSerializationError } from './errors.js';
import type { L1Cache, L1Ticket } from './l1.js';
import { L1Tier } from './l1-tier.js';
import { type FillTicket, L2 } from './l2.js';
import { DEFAULT_VERSION_TTL_SECONDS } from './layout.js';
import { decodePayload, encodePayload, isNotFound } from './negative.js';
import { type ReadPolicy, type ResilienceOptions, resolveReadPolicy } from './read-policy.js';
import type { RedisClient } from './script.js';
import { jsonSerializer, type Serializer } from './serializer.js';
import { awaitLoad } from './timeouts.js';
import { decideTtl } from './ttl-policy.js';

export interface FabricCacheOptions extends ResilienceOptions {
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
   * The invalidator's --version-ttl-seconds (default the same, 7 days): the lifetime a fill
   * gives a version key it has to create; ttlSeconds must stay below it.
   */
  versionTtlSeconds?: number;
  /**
   * With staleOk: the oldest a stale copy served to a waiter may be, counted from its fill;
   * default 2 × ttlSeconds, at most 4 × ttlSeconds. An invalidation deletes the copy anyway.
   */
  maxStaleSeconds?: number;
  serializer?: Serializer;
  /**
   * false: plain unconditional fills without leases. Only a baseline that shows the
   * read-populates-stale race; never use it in production. Default true.
   */
  leases?: boolean;
  /** An in-process cache in front of Redis; needs `bus`, which keeps it in step with the invalidators. */
  l1?: L1Cache;
  /** The region's invalidation bus: drops L1 copies, and knows the watermark `after` waits for. */
  bus?: InvalidationBus;
}

export interface GetOptions<T = unknown> {
  /** This value's own lifetime in seconds, overriding the cache's `ttl`; clamped to ttlSeconds. */
  ttl?(value: T): number;
  /** Tags this key belongs to; invalidating a tag deletes the key. */
  tags?: string[];
  /** A version counter (e.g. ver:user:42): a cached value filled under an older version is a miss. */
  versionKey?: string;
  /** Serve the stale copy while another caller fills; default the cache's staleOk. */
  allowStale?: boolean;
  /**
   * Read-your-writes: a commitToken() taken after the caller's write. The cache answers only
   * once the region applied everything up to it; else, after afterWaitMs, the loader is
   * called and its value not cached.
   */
  after?: CommitToken;
  /** How long to wait for the region's watermark to reach `after` (default 0: read through at once). */
  afterWaitMs?: number;
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
  /** Lease attempts that met an invalidation's tombstone and waited it out. */
  tombstoneWaits: number;
  /** Hits served from L1 (hits - l1Hits came from Redis). */
  l1Hits: number;
  /** Loads done uncached because the region had not applied the caller's `after` token yet. */
  readThroughs: number;
  /** Graced values served because the loader failed or timed out (graceSeconds). */
  graceServed: number;
  softTimeouts: number;
  hardTimeouts: number;
  /** Background refreshes a hit near expiry started (XFetch) and whose lease it took. */
  earlyRefreshes: number;
  /** Fills of a loader's "not found" for negativeTtlSeconds. */
  negativeFills: number;
  /** Loaded values not cached because their own ttl was <= 0 or NaN. */
  uncacheable: number;
  /** Background fills (early refresh, after a soft timeout) that failed; the caller had its answer. */
  backgroundFailures: number;
}

const MAX_POLL_MS = 50;

/**
 * Cache-aside with fill leases (layout in layout.ts). A miss takes the key's lease (re-checking
 * the value in the same step), registers the fill in flight and in its tags and snapshots its
 * version BEFORE loading, so any invalidation applied while the loader runs either revokes
 * the lease (the fill is refused) or moves the version (the filled value reads as a miss).
 * Whoever finds the lease taken waits for that fill instead of loading too, which is the
 * stampede protection.
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
    tombstoneWaits: 0,
    l1Hits: 0,
    readThroughs: 0,
    graceServed: 0,
    softTimeouts: 0,
    hardTimeouts: 0,
    earlyRefreshes: 0,
    negativeFills: 0,
    uncacheable: 0,
    backgroundFailures: 0,
  };
  private readonly serializer: Serializer;
  private readonly l2: L2;
  private readonly policy: ReadPolicy;
  private readonly durations = new LoadDurations();
  private readonly l1: L1Tier;

  constructor(
    redis: RedisClient,
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
    const maxStale = opts.maxStaleSeconds ?? opts.ttlSeconds * 2;
    if (!(maxStale > 0 && maxStale <= opts.ttlSeconds * 4))
      throw new CacheOptionsError(
        `maxStaleSeconds must be within 0..4 × ttlSeconds (${opts.ttlSeconds * 4}), got ${maxStale}: lower it or leave it unset (2 × ttlSeconds)`,
      );
    this.serializer = opts.serializer ?? jsonSerializer;
    this.policy = resolveReadPolicy(opts);
    this.l1 = new L1Tier(redis, opts.l1, opts.bus);
    this.l2 = new L2(redis, {
      leaseMs: opts.leaseMs,
      versionTtlMs: versionTtl * 1000,
      staleTtlMs: opts.staleOk ? Math.round(maxStale * 1000) : 0,
      tagTtlMs: opts.ttlSeconds * 1000 + opts.leaseMs,
    });
  }

  async get<T>(key: string, loader: () => Promise<T>, opts: GetOptions<T> = {}): Promise<T> {
    return (await this.getEntry(key, loader, opts)).value;
  }

  /** As `get`, telling where the value came from and whether it is stale (served by grace). */
  async getEntry<T>(key: string, loader: () => Promise<T>, opts: GetOptions<T> = {}): Promise<CacheEntry<T>> {
    if (opts.after !== undefined && !(await this.l1.reached(opts.after, opts.afterWaitMs ?? 0))) {
      this.stats.readThroughs++;
      this.stats.loads++;
      return { value: await loader(), stale: false, source: 'loader' };
    }
    const near = this.l1.read(key);
    if (near !== undefined) {
      this.stats.l1Hits++;
      return this.hit<T>(near, 'l1');
    }
    const ticket = this.l1.ticket();
    const first = await this.l2.read(key, opts.versionKey);
    if (first !== undefined) {
      await this.l1.keepRead(key, first, ticket, opts);
      if (this.policy.earlyRefreshBeta !== undefined) this.refreshEarly(key, loader, opts);
      return this.hit<T>(first, 'l2');
    }
    this.stats.misses++;
    if (this.opts.leases === false)
      return { value: await this.fillWithoutLease(key, loader, opts), stale: false, source: 'loader' };

    const deadline = Date.now() + this.opts.waitMs;
    let pause = 5;
    for (;;) {
      // Re-checks the value with the lease: a fill that landed since our read is a hit.
      const got = await this.l2.acquire(key, opts.versionKey, randomUUID());
      if (got.kind === 'hit') return this.hit<T>(got.payload, 'l2');
      if (got.kind === 'leased') return this.fill(key, got.token, loader, opts, ticket);
      let wait = Math.min(pause, MAX_POLL_MS);
      if (got.kind === 'tombstone') {
        // An invalidation just ran: no fill until the commit is surely visible (layout.ts).
        this.stats.tombstoneWaits++;
        wait = got.retryInMs;
      } else if ((opts.allowStale ?? this.opts.staleOk) && got.stale !== undefined) {
        this.stats.staleServed++;
        return {
          value: decodePayload(got.stale, this.serializer) as T,
          stale: true,
          source: 'grace',
          reason: 'filling',
        };
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        // The other filler is slow or gone; answering beats waiting for its lease to expire.
        this.stats.uncachedLoads++;
        this.stats.loads++;
        return { value: await loader(), stale: false, source: 'loader' };
      }
      await sleep(Math.min(wait, left));
      pause = Math.min(pause * 2, MAX_POLL_MS);
    }
  }

  private hit<T>(payload: string, source: 'l1' | 'l2'): CacheEntry<T> {
    this.stats.hits++;
    return { value: decodePayload(payload, this.serializer) as T, stale: false, source };
  }

  /**
   * XFetch on a Redis hit (early-refresh.ts), off the caller's path: the expiry is read, the
   * draw made and, if it says so, the lease taken and the key refilled in the background.
   * Only the caller that takes the lease loads, in whichever process; everyone, this caller
   * included, is answered with the current value meanwhile.
   */
  private refreshEarly<T>(key: string, loader: () => Promise<T>, opts: GetOptions<T>): void {
    const beta = this.policy.earlyRefreshBeta;
    const deltaMs = this.durations.deltaMs(key);
    if (beta === undefined || deltaMs === undefined) return;
    void (async () => {
      const left = await this.l2.expiresInMs(key);
      if (left === undefined) return;
      const now = this.policy.clock.now();
      const expiresAt = now + left;
      if (!shouldRefreshEarly({ now, expiresAt, deltaMs, beta, random: this.policy.random() })) return;
      const token = randomUUID();
      if (!(await this.l2.takeLease(key, token))) return;
      this.stats.earlyRefreshes++;
      await this.fill(key, token, loader, opts, this.l1.ticket(), true);
    })().catch(() => {
      this.stats.backgroundFailures++;
    });
  }

  /**
   * Registration and version snapshot come before the load; see the class comment. The load
   * runs within the soft and hard timeouts (timeouts.ts). A failed or hard-timed-out load
   * gives the lease back at once (waiters should not sit out the whole lease behind a filler
   * that already failed) and its late result is discarded: its caller was answered already,
   * and a retry may hold the lease by then. After a soft timeout the load goes on and writes
   * through its lease as usual.
   */
  private async fill<T>(
    key: string,
    token: string,
    loader: () => Promise<T>,
    opts: GetOptions<T>,
    l1Ticket: L1Ticket | undefined,
    /** An early refresh: nobody waits for it, so no timeouts and no grace, just the lease. */
    background = false,
  ): Promise<CacheEntry<T>> {
    let ticket: FillTicket | undefined;
    const load = (async () => {
      const prepared = await this.l2.prepare(key, token, opts.tags ?? [], opts.versionKey);
      ticket = prepared;
      this.stats.loads++;
      return { ticket: prepared, value: await loader() };
    })();
    const timeouts = background ? {} : { softMs: this.policy.softTimeoutMs, hardMs: this.policy.hardTimeoutMs };
    const outcome = await awaitLoad(load, timeouts, () => this.graced<T>(key, opts), this.policy.clock);
    const abandon = () => this.l2.abandon(ticket ?? { key, token }).catch(() => undefined);
    switch (outcome.kind) {
      case 'loaded':
        this.durations.record(key, outcome.durationMs);
        await this.store(outcome.value.ticket, outcome.value.value, opts, l1Ticket);
        return { value: outcome.value.value, stale: false, source: 'loader' };
      case 'soft-timeout':
        this.stats.softTimeouts++;
        this.stats.graceServed++;
        load
          .then((loaded) => this.store(loaded.ticket, loaded.value, opts, l1Ticket))
          .catch(async () => {
            this.stats.backgroundFailures++;
            await abandon();
          });
        return { value: outcome.graced.value, stale: true, source: 'grace', reason: 'soft-timeout' };
      case 'hard-timeout':
        this.stats.hardTimeouts++;
        load.catch(() => undefined);
        await abandon();
        return this.graceOr(key, opts, 'hard-timeout', new CacheLoaderTimeoutError(key, outcome.afterMs));
      case 'failed':
        await abandon();
        if (background) throw outcome.error;
        return this.graceOr(key, opts, 'loader-error', outcome.error);
    }
  }

  /** Writes through the lease with the value's TTL (ttl-policy.ts); gives the lease back when not caching. */
  private async store<T>(ticket: FillTicket, value: T, opts: GetOptions<T>, l1Ticket: L1Ticket | undefined) {
    const negative = this.policy.negativeTtlSeconds !== undefined && isNotFound(value);
    const ttl = decideTtl(value, negative, this.opts, opts.ttl ?? this.policy.ttl, this.policy.random);
    if (!ttl.cache) {
      this.stats.uncacheable++;
      await this.l2.abandon(ticket).catch(() => undefined);
      return;
    }
    let payload: string;
    try {
      payload = this.serialize(ticket.key, value, ttl.negative);
    } catch (err) {
      await this.l2.abandon(ticket).catch(() => undefined);
      throw err;
    }
    // With grace the stale copy outlives the value by exactly graceSeconds, so Redis itself
    // ends the grace period; otherwise it is the staleOk copy (maxStaleSeconds).
    const staleTtlMs = this.policy.graceMs > 0 ? ttl.ttlMs + this.policy.graceMs : undefined;
    if (await this.l2.fill(ticket, payload, ttl.ttlMs, staleTtlMs)) {
      this.stats.fills++;
      if (ttl.negative) this.stats.negativeFills++;
      // Only what L2 accepted: a refused fill was invalidated meanwhile.
      this.l1.keep(ticket.key, payload, l1Ticket, ttl.ttlMs, opts);
    } else this.stats.refusedFills++;
  }

  /**
   * The last good value while its grace lasts, or undefined. The copy expires graceSeconds
   * after the value, every invalidation deletes it, and it must carry the current version.
   */
  private async graced<T>(key: string, opts: GetOptions<T>): Promise<{ value: T } | undefined> {
    if (this.policy.graceMs === 0) return undefined;
    const payload = await this.l2.readStale(key, opts.versionKey);
    return payload === undefined ? undefined : { value: decodePayload(payload, this.serializer) as T };
  }

  /** Stale-if-error: the graced value flagged stale, or the error when there is none. */
  private async graceOr<T>(
    key: string,
    opts: GetOptions<T>,
    reason: StaleReason,
    error: unknown,
  ): Promise<CacheEntry<T>> {
    const graced = await this.graced<T>(key, opts).catch(() => undefined);
    if (graced === undefined) throw error;
    this.stats.graceServed++;
    return { value: graced.value, stale: true, source: 'grace', reason };
  }

  private async fillWithoutLease<T>(key: string, loader: () => Promise<T>, opts: GetOptions): Promise<T> {
    const version = await this.l2.prepareUnleased(key, opts.tags ?? [], opts.versionKey);
    this.stats.loads++;
    const value = await loader();
    await this.l2.writeUnleased(key, this.serialize(key, value, false), version, this.ttlMs());
    this.stats.fills++;
    return value;
  }

  private serialize(key: string, value: unknown, negative: boolean): string {
    const text = encodePayload(value, this.serializer, negative);
    if (text === undefined)
      throw new CacheSerializationError(key, 'the serializer returned nothing (JSON cannot store undefined)');
    return text;
  }

  /** Jitter only shortens, so ttlSeconds stays an upper bound on a value's lifetime. */
  private ttlMs(): number {
    return Math.max(1, Math.round(this.opts.ttlSeconds * 1000 * (1 - this.opts.ttlJitter * Math.random())));
  }
}
