import type { InvalidationBus } from './bus.js';
import { type CommitToken, tokenPosition } from './consistency/commit-token.js';
import { CacheOptionsError } from './errors.js';
import type { L1Cache, L1Ticket } from './l1.js';
import type { RedisClient } from './script.js';

/**
 * How FabricCache uses its L1 and the bus: L1 is read and filled only while the bus is live;
 * a ticket is taken before the L2 read and an insert made under it only if nothing that
 * could touch the key arrived since (l1.ts); what goes in is only what L2 holds (a read hit,
 * or a fill the lease let through, never a refused one), for no longer than L2 keeps it.
 */
export class L1Tier {
  constructor(
    private readonly redis: RedisClient,
    private readonly l1: L1Cache | undefined,
    private readonly bus: InvalidationBus | undefined,
  ) {
    if (l1 && !bus)
      throw new CacheOptionsError(
        'l1 needs a bus: without the invalidators telling it what they deleted, an L1 copy would outlive every invalidation; pass bus: new InvalidationBus(...)',
      );
    if (l1 && bus) bus.attach(l1);
  }

  read(key: string): string | undefined {
    return this.l1 && this.bus?.live ? this.l1.get(key) : undefined;
  }

  /** Undefined when nothing may be inserted: no L1, or the bus is not live (what it misses now is not known later). */
  ticket(): L1Ticket | undefined {
    return this.l1 && this.bus?.live ? this.l1.ticket() : undefined;
  }

  /** An L2 read hit: kept for what the L2 entry has left. */
  async keepRead(key: string, payload: string, ticket: L1Ticket | undefined, meta: L1Meta): Promise<void> {
    if (!ticket || !this.l1) return;
    const ttl = await this.redis.pttl(key).catch(() => -2);
    // -2: gone since the read; -1: no expiry (a value not filled by the SDK), the L1 bound alone.
    if (ttl === -2 || ttl === 0) return;
    this.keep(key, payload, ticket, ttl === -1 ? Number.POSITIVE_INFINITY : ttl, meta);
  }

  /** A fill L2 accepted, with the TTL it was given. */
  keep(key: string, payload: string, ticket: L1Ticket | undefined, ttlMs: number, meta: L1Meta): void {
    if (ticket && this.l1 && this.bus?.live) this.l1.insert(key, payload, ticket, ttlMs, meta);
  }

  /**
   * Read-your-writes: true once the region's watermark reached the token, waiting up to
   * `waitMs`; false means the caller must read through (load without caching).
   */
  reached(token: CommitToken, waitMs: number): Promise<boolean> {
    if (!this.bus)
      throw new CacheOptionsError(
        'get with after: needs a bus (new InvalidationBus(...)) to know the region watermark',
      );
    return this.bus.watermark.wait(tokenPosition(token), waitMs);
  }
}

export interface L1Meta {
  tags?: readonly string[];
  versionKey?: string;
}
