import { BUS_HEARTBEAT_MS, type BusMessage, busChannel, invalidationTopic, parseBusMessage } from '@fabric/contracts';
import { RegionWatermark } from './consistency/watermark.js';
import { CacheOptionsError } from './errors.js';
import type { L1Cache } from './l1.js';
import type { RedisClient } from './script.js';

export interface BusLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface InvalidationBusOptions {
  /** The region's Redis: watermarks are read from it, and the subscription is a duplicate of it. */
  redis: RedisClient;
  region: string;
  /** The region's invalidation topic, whose watermarks count; default fabric.inval.<region>. */
  topic?: string;
  /** The subscription connection; default redis.duplicate(). Closed by stop(). */
  subscriber?: RedisClient;
  /** No message at all (not even a heartbeat) for this long means the bus stalled; default 5 × the bus heartbeat. */
  stallMs?: number;
  logger?: BusLogger;
}

export interface BusStats {
  messages: number;
  malformed: number;
  /** Times the subscription was lost or stalled (each cleared every L1 attached). */
  outages: number;
}

const silent: BusLogger = { warn() {}, info() {} };

/**
 * The SDK's end of the region bus (contract in @fabric/contracts bus.ts). Each message drops
 * what it names from every attached L1 and raises the region watermark. L1 is only as good as
 * the subscription: when the connection closes, reconnects or goes quiet for stallMs (the
 * invalidators publish a heartbeat every second), every L1 is cleared and `live` turns false,
 * so L1 is neither read nor filled, until SUBSCRIBE is confirmed again and the watermark
 * re-read from Redis.
 */
export class InvalidationBus {
  readonly stats: BusStats = { messages: 0, malformed: 0, outages: 0 };
  readonly watermark: RegionWatermark;
  private readonly l1s = new Set<L1Cache>();
  private readonly sub: RedisClient;
  private readonly channel: string;
  private readonly stallMs: number;
  private readonly logger: BusLogger;
  private subscribed = false;
  private stalled = false;
  private lastMessageAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private liveWaiters: Array<() => void> = [];

  constructor(private readonly opts: InvalidationBusOptions) {
    this.stallMs = opts.stallMs ?? 5 * BUS_HEARTBEAT_MS;
    if (!(this.stallMs > BUS_HEARTBEAT_MS))
      throw new CacheOptionsError(
        `bus stallMs must exceed the bus heartbeat (${BUS_HEARTBEAT_MS} ms), got ${this.stallMs}: every quiet second would clear L1`,
      );
    this.channel = busChannel(opts.region);
    this.watermark = new RegionWatermark(opts.topic ?? invalidationTopic(opts.region));
    this.logger = opts.logger ?? silent;
    this.sub = opts.subscriber ?? opts.redis.duplicate();
  }

  /** Subscribed, confirmed and not stalled: L1 may be read and filled. */
  get live(): boolean {
    return this.subscribed && !this.stalled;
  }

  attach(l1: L1Cache): void {
    this.l1s.add(l1);
    if (!this.live) l1.flush();
  }

  /**
   * Subscribes; resolves true once live (L1 works from then on), false if not live within
   * `waitMs`: the cache then runs on Redis alone until the subscription is confirmed.
   */
  async start(waitMs = 10_000): Promise<boolean> {
    this.sub.on('message', (channel: string, text: string) => {
      if (channel === this.channel) this.onMessage(text);
    });
    for (const event of ['close', 'end', 'reconnecting'] as const) this.sub.on(event, () => this.lost(event));
    this.sub.on('ready', () => void this.subscribe());
    this.sub.on('error', () => undefined); // reported as close/reconnecting; ioredis retries
    this.timer = setInterval(() => this.checkStall(), Math.max(100, Math.floor(this.stallMs / 4)));
    this.timer.unref();
    const live = new Promise<void>((resolve) => this.liveWaiters.push(resolve));
    if (this.sub.status === 'ready') void this.subscribe();
    else if (this.sub.status === 'wait') await this.sub.connect().catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), waitMs)));
    const outcome = await Promise.race([live.then(() => true as const), timeout]);
    clearTimeout(timer);
    if (!outcome)
      this.logger.warn({ waitMs, channel: this.channel }, 'bus not subscribed yet; L1 stays off until it is');
    return outcome;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.lost('stop');
    this.sub.disconnect();
  }

  private async subscribe(): Promise<void> {
    try {
      await this.sub.subscribe(this.channel);
      // After SUBSCRIBE: whatever the invalidators recorded before is in the hash, whatever after on the bus.
      await this.watermark.seed(this.opts.redis);
    } catch (err) {
      this.logger.warn({ err }, 'bus subscription failed; L1 stays off until it succeeds');
      return;
    }
    if (this.stopping) return;
    this.subscribed = true;
    this.stalled = false;
    this.lastMessageAt = Date.now();
    this.logger.info({ channel: this.channel }, 'bus subscribed; L1 on');
    for (const resolve of this.liveWaiters.splice(0)) resolve();
  }

  private lost(why: string): void {
    const was = this.live;
    this.subscribed = false;
    for (const l1 of this.l1s) l1.flush();
    if (was) {
      this.stats.outages++;
      if (!this.stopping) this.logger.warn({ why, channel: this.channel }, 'bus subscription lost; L1 cleared and off');
    }
  }

  private checkStall(): void {
    if (!this.live || Date.now() - this.lastMessageAt <= this.stallMs) return;
    this.stalled = true;
    this.stats.outages++;
    for (const l1 of this.l1s) l1.flush();
    this.logger.warn(
      { stallMs: this.stallMs, channel: this.channel },
      'bus silent (no invalidator heartbeat): L1 cleared and off until a message arrives',
    );
  }

  private onMessage(text: string): void {
    this.lastMessageAt = Date.now();
    this.stats.messages++;
    const parsed = parseBusMessage(text);
    if (!parsed.ok) {
      // Something the SDK cannot read may have named any key.
      this.stats.malformed++;
      for (const l1 of this.l1s) l1.flush();
      this.logger.warn({ reason: parsed.reason }, 'malformed bus message; L1 flushed');
    } else this.apply(parsed.message);
    if (this.stalled) {
      this.stalled = false;
      this.logger.info({ channel: this.channel }, 'bus heard again; L1 on');
    }
  }

  private apply(m: BusMessage): void {
    for (const l1 of this.l1s) {
      // A pattern is not matched here: rare (manual and resync only), and a wrong match would serve stale.
      if (m.flush || m.patterns.length > 0) l1.flush();
      else if (m.keys.length + m.tags.length + m.versions.length > 0)
        l1.invalidate({ keys: m.keys, tags: m.tags, versions: m.versions });
    }
    if (m.topic === this.watermark.topic) this.watermark.advance(m.partitions, m.watermarks);
  }
}
