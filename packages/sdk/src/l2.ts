import { FILLING_KEY, leaseKey, staleKey, tagKey, VALUE_FIELD, VERSION_FIELD } from './layout.js';
import type { RedisClient } from './script.js';
import {
  acquireLease,
  ensureVersion,
  fillIfLeased,
  registerFill,
  registerTag,
  releaseLease,
  unregisterFill,
} from './scripts.js';

/** What taking a key's lease found (see acquireLease). Payloads are still serialized. */
export type Acquired =
  | { kind: 'hit'; payload: string }
  | { kind: 'leased'; token: string }
  | { kind: 'busy'; stale: string | undefined }
  | { kind: 'tombstone'; retryInMs: number };

/** A fill that took its lease and registered; what the final write and cleanup need. */
export interface FillTicket {
  key: string;
  token: string;
  /** '' when the get named no version key. */
  version: string;
  /** registerFill's score, to unregister only our own entry. */
  registered: string;
}

export interface L2Options {
  leaseMs: number;
  /** Lifetime of a version key a fill creates: the invalidator's --version-ttl-seconds. */
  versionTtlMs: number;
  /** Stale copies' lifetime from their fill; 0 = none kept. */
  staleTtlMs: number;
  /** The least lifetime a tag set is given when a fill registers in it: it must outlive its entries. */
  tagTtlMs: number;
}

/**
 * The region's Redis as the SDK's second level: reads, the lease, registration of a fill in
 * flight and the guarded write, each a step of the protocol in layout.ts. FabricCache
 * orchestrates them (and whatever sits in front, such as an L1); nothing here decides
 * policy (waiting, stale, timeouts).
 */
export class L2 {
  /**
   * On a standalone server the acquire script reads the version key itself, atomically; a
   * cluster keeps version keys in other slots, so the caller reads it just before.
   */
  private readonly atomicVersions: boolean;

  constructor(
    private readonly redis: RedisClient,
    private readonly opts: L2Options,
  ) {
    this.atomicVersions = !redis.isCluster;
  }

  /** The value's payload if present and current; a missing version key is a miss (layout.ts). */
  async read(key: string, versionKey: string | undefined): Promise<string | undefined> {
    const [[payload, version], current] = await Promise.all([
      this.redis.hmget(key, VALUE_FIELD, VERSION_FIELD),
      versionKey === undefined ? Promise.resolve(null) : this.redis.get(versionKey),
    ]);
    if (payload === null || payload === undefined) return undefined;
    if (versionKey !== undefined && (current === null || version !== current)) return undefined;
    return payload;
  }

  /** Re-checks the value and takes the lease in one step (see acquireLease). */
  async acquire(key: string, versionKey: string | undefined, token: string): Promise<Acquired> {
    const keys = [key, leaseKey(key), staleKey(key)];
    let current = '';
    if (versionKey !== undefined) {
      if (this.atomicVersions) keys.push(versionKey);
      else current = (await this.redis.get(versionKey)) ?? '';
    }
    const reply = (await acquireLease.run(this.redis, keys, [
      token,
      this.opts.leaseMs,
      versionKey === undefined ? '0' : '1',
      current,
    ])) as [number, string | number | null | undefined];
    const [kind, data] = reply;
    if (kind === 2) return { kind: 'hit', payload: String(data) };
    if (kind === 1) return { kind: 'leased', token };
    if (kind === 3) return { kind: 'tombstone', retryInMs: Math.max(1, Number(data)) };
    return { kind: 'busy', stale: typeof data === 'string' ? data : undefined };
  }

  /**
   * Everything that must happen after the lease and BEFORE the load: the fill is registered
   * in flight (pattern invalidations), in its tags, and snapshots its version, creating the
   * version key if it is missing. Any invalidation applied from here on revokes the fill.
   */
  async prepare(key: string, token: string, tags: readonly string[], versionKey: string | undefined) {
    const tagTtlMs = this.opts.tagTtlMs;
    const [registered, version] = await Promise.all([
      registerFill.run(this.redis, [FILLING_KEY], [key, this.opts.leaseMs]) as Promise<string>,
      versionKey === undefined
        ? Promise.resolve('')
        : (ensureVersion.run(this.redis, [versionKey], [this.opts.versionTtlMs]) as Promise<string>),
      ...tags.map((tag) => registerTag.run(this.redis, [tagKey(tag)], [key, tagTtlMs])),
    ]);
    return { key, token, version: String(version), registered: String(registered) } satisfies FillTicket;
  }

  /**
   * Writes the value if the lease is still ours; true when written. Unregisters either way.
   * `staleTtlMs` overrides the stale copy's lifetime for this fill (grace: the value's TTL + graceSeconds).
   */
  async fill(ticket: FillTicket, payload: string, ttlMs: number, staleTtlMs = this.opts.staleTtlMs): Promise<boolean> {
    try {
      const written = await fillIfLeased.run(
        this.redis,
        [ticket.key, leaseKey(ticket.key), staleKey(ticket.key)],
        [ticket.token, payload, ticket.version, ttlMs, staleTtlMs],
      );
      return written === 1;
    } finally {
      await this.unregister(ticket);
    }
  }

  /** After a failed load: the lease back (waiters need not sit it out) and the entry gone. */
  async abandon(ticket: Pick<FillTicket, 'key' | 'token'> & Partial<FillTicket>): Promise<void> {
    await Promise.all([
      releaseLease.run(this.redis, [leaseKey(ticket.key)], [ticket.token]),
      ticket.registered === undefined ? undefined : this.unregister(ticket as FillTicket),
    ]);
  }

  /** The baseline without leases (FabricCacheOptions.leases = false): an unconditional write. */
  async writeUnleased(key: string, payload: string, version: string, ttlMs: number): Promise<void> {
    const fields: string[] = [VALUE_FIELD, payload];
    if (version !== '') fields.push(VERSION_FIELD, version);
    await this.redis
      .multi()
      .del(key)
      .hset(key, ...fields)
      .pexpire(key, ttlMs)
      .exec();
  }

  /** The leaseless baseline's registration: tags and version only (it has no lease to revoke). */
  async prepareUnleased(key: string, tags: readonly string[], versionKey: string | undefined): Promise<string> {
    const [version] = await Promise.all([
      versionKey === undefined
        ? Promise.resolve('')
        : (ensureVersion.run(this.redis, [versionKey], [this.opts.versionTtlMs]) as Promise<string>),
      ...tags.map((tag) => registerTag.run(this.redis, [tagKey(tag)], [key, this.opts.tagTtlMs])),
    ]);
    return String(version);
  }

  /** The stale copy's payload if present and current (same shape and version rule as the value). */
  async readStale(key: string, versionKey: string | undefined): Promise<string | undefined> {
    return this.read(staleKey(key), versionKey);
  }

  /** The value's remaining lifetime in ms; undefined when it is missing or has none. */
  async expiresInMs(key: string): Promise<number | undefined> {
    const pttl = await this.redis.pttl(key);
    return pttl > 0 ? pttl : undefined;
  }

  /**
   * The lease alone, for an early refresh of a value that is still there (acquire would
   * answer "hit"). Fails while another fill or an invalidation's tombstone holds it.
   */
  async takeLease(key: string, token: string): Promise<boolean> {
    return (await this.redis.set(leaseKey(key), token, 'PX', this.opts.leaseMs, 'NX')) === 'OK';
  }

  private async unregister(ticket: FillTicket): Promise<void> {
    // Best effort: an entry left behind is trimmed once its lease has expired.
    await unregisterFill.run(this.redis, [FILLING_KEY], [ticket.key, ticket.registered]).catch(() => undefined);
  }
}
