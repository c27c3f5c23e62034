import { CacheOptionsError } from './errors.js';

export interface L1Options {
  /** Entries kept at most; the least recently used goes first. */
  maxEntries: number;
  /** Serialized bytes kept at most (the payload's length, as UTF-16 code units, approximates it). */
  maxBytes: number;
  /** An entry lives at most this long, and never longer than its L2 entry had left when read. */
  maxTtlMs: number;
  /** Invalidated keys, tags and versions remembered for in-flight reads; beyond it any read older than the oldest forgotten one is refused. */
  recentInvalidations?: number;
  now?: () => number;
}

export interface L1Stats {
  hits: number;
  misses: number;
  inserts: number;
  /** Inserts refused because an invalidation that could touch the key arrived during the L2 read. */
  refusedInserts: number;
  evictions: number;
  invalidated: number;
  flushes: number;
}

/** Taken before the L2 read; an insert under it is accepted only if nothing touching the key arrived since. */
export interface L1Ticket {
  readonly seq: number;
}

interface Entry {
  payload: string;
  expiresAt: number;
  tags: readonly string[];
  versionKey: string | undefined;
}

/**
 * The in-process cache in front of Redis, bounded by entries and bytes, LRU (a Map keeps
 * insertion order; a hit moves the entry to the end). It holds serialized payloads, so no
 * caller can mutate what another is served, and it is only as fresh as the bus: the owner
 * (FabricCache) consults it only while the bus subscription is live.
 *
 * The L1 race: an instance reads the old value from L2, the bus then drops the key (there is
 * nothing in L1 yet), the instance stores the old value: stale until its TTL. Every
 * invalidation therefore gets a sequence number, and the last one per key, tag and version
 * key is remembered (bounded); an insert whose ticket predates any of those that could touch
 * it, or predates a flush, is refused. Forgotten entries raise a floor instead, so the bound
 * costs refused inserts, never a stale one.
 */
export class L1Cache {
  readonly stats: L1Stats = {
    hits: 0,
    misses: 0,
    inserts: 0,
    refusedInserts: 0,
    evictions: 0,
    invalidated: 0,
    flushes: 0,
  };
  private readonly entries = new Map<string, Entry>();
  private readonly byTag = new Map<string, Set<string>>();
  private readonly byVersion = new Map<string, Set<string>>();
  private bytes = 0;
  private seq = 0;
  /** Tickets at or below it are refused: a flush, or a forgotten invalidation, came after them. */
  private floor = 0;
  private readonly recent = new Map<string, number>();
  private readonly recentMax: number;
  private readonly now: () => number;

  constructor(private readonly opts: L1Options) {
    for (const name of ['maxEntries', 'maxBytes', 'maxTtlMs'] as const)
      if (!(Number.isFinite(opts[name]) && opts[name] > 0))
        throw new CacheOptionsError(`l1.${name} must be a number > 0, got ${opts[name]}`);
    this.recentMax = opts.recentInvalidations ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  get byteSize(): number {
    return this.bytes;
  }

  ticket(): L1Ticket {
    return { seq: this.seq };
  }

  /** The payload, or undefined; an expired entry is dropped on the way. */
  get(key: string): string | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.expiresAt <= this.now()) {
      if (entry) this.remove(key);
      this.stats.misses++;
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.stats.hits++;
    return entry.payload;
  }

  /**
   * Stores what L2 answered (or a fill L2 accepted) if no invalidation that could touch it
   * arrived since `ticket`; `ttlMs` is what the L2 entry has left. False when refused.
   */
  insert(
    key: string,
    payload: string,
    ticket: L1Ticket,
    ttlMs: number,
    meta: { tags?: readonly string[]; versionKey?: string } = {},
  ): boolean {
    const tags = meta.tags ?? [];
    const touched =
      ticket.seq < this.floor ||
      this.after(`k:${key}`, ticket) ||
      tags.some((t) => this.after(`t:${t}`, ticket)) ||
      (meta.versionKey !== undefined && this.after(`v:${meta.versionKey}`, ticket));
    if (touched) {
      this.stats.refusedInserts++;
      return false;
    }
    const life = Math.min(ttlMs, this.opts.maxTtlMs);
    if (!(life > 0) || payload.length > this.opts.maxBytes) return false;
    this.remove(key);
    this.entries.set(key, { payload, expiresAt: this.now() + life, tags, versionKey: meta.versionKey });
    this.bytes += payload.length;
    for (const t of tags) index(this.byTag, t, key);
    if (meta.versionKey !== undefined) index(this.byVersion, meta.versionKey, key);
    this.stats.inserts++;
    while (this.entries.size > this.opts.maxEntries || this.bytes > this.opts.maxBytes) {
      const oldest = this.entries.keys().next().value as string;
      this.remove(oldest);
      this.stats.evictions++;
    }
    return true;
  }

  /** What the bus says was invalidated: the entries go, and in-flight reads of them will not be stored. */
  invalidate(what: { keys?: readonly string[]; tags?: readonly string[]; versions?: readonly string[] }): void {
    this.seq++;
    for (const k of what.keys ?? []) {
      this.remember(`k:${k}`);
      if (this.remove(k)) this.stats.invalidated++;
    }
    for (const [names, prefix, idx] of [
      [what.tags ?? [], 't:', this.byTag],
      [what.versions ?? [], 'v:', this.byVersion],
    ] as const)
      for (const name of names) {
        this.remember(prefix + name);
        for (const k of [...(idx.get(name) ?? [])]) if (this.remove(k)) this.stats.invalidated++;
      }
  }

  /**
   * Everything goes, and every read under way is refused: a resync, a pattern (not matched
   * here: rare, and a wrong match would be stale), a lost or stalled bus subscription.
   */
  flush(): void {
    this.seq++;
    this.floor = this.seq;
    this.recent.clear();
    this.entries.clear();
    this.byTag.clear();
    this.byVersion.clear();
    this.bytes = 0;
    this.stats.flushes++;
  }

  private after(name: string, ticket: L1Ticket): boolean {
    return (this.recent.get(name) ?? 0) > ticket.seq;
  }

  private remember(name: string): void {
    this.recent.delete(name);
    this.recent.set(name, this.seq);
    if (this.recent.size <= this.recentMax) return;
    const [oldest, seq] = this.recent.entries().next().value as [string, number];
    this.recent.delete(oldest);
    // A ticket older than what was forgotten can no longer be judged: refuse it.
    this.floor = Math.max(this.floor, seq);
  }

  private remove(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    this.bytes -= entry.payload.length;
    for (const t of entry.tags) unindex(this.byTag, t, key);
    if (entry.versionKey !== undefined) unindex(this.byVersion, entry.versionKey, key);
    return true;
  }
}

function index(idx: Map<string, Set<string>>, name: string, key: string): void {
  const keys = idx.get(name);
  if (keys) keys.add(key);
  else idx.set(name, new Set([key]));
}

function unindex(idx: Map<string, Set<string>>, name: string, key: string): void {
  const keys = idx.get(name);
  if (!keys) return;
  keys.delete(key);
  if (keys.size === 0) idx.delete(name);
}
