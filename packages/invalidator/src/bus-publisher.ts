import {
  APPLIED_LSNS_KEY,
  appliedLsnField,
  BUS_HEARTBEAT_MS,
  BUS_MESSAGE_MAX_BYTES,
  type BusMessage,
  busChannel,
  chunkByBytes,
  laterLsn,
  lsnToHex16,
  partitionCountField,
  serializeBusMessage,
} from '@fabric/contracts';
import { type InvalidationEvent, Operation } from '@fabric/proto';
import { LuaScript, type RedisClient } from '@fabric/sdk';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';

/**
 * KEYS[1]: the applied-LSN hash. ARGV[1]: the bus channel, ARGV[2]: n, then n field/LSN
 * pairs, then the messages. Raises each field to its LSN, never lowers it (16-hex-digit
 * LSNs compare as strings), then publishes the messages in order: what the hash says is
 * never behind what the bus said, so an instance that (re)subscribes and reads it misses
 * nothing. One call per delivery instead of a script and a PUBLISH per message. The hash
 * is best effort (pcall): a field that cannot be read or written does not hold back the
 * invalidations, which are what a subscriber must not miss.
 */
const deliverApplied = new LuaScript(`
local n = tonumber(ARGV[2])
for i = 3, 2 + 2 * n, 2 do
  local cur = redis.pcall('HGET', KEYS[1], ARGV[i])
  if type(cur) ~= 'table' and ((not cur) or ARGV[i + 1] > cur) then redis.pcall('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
for i = 3 + 2 * n, #ARGV do redis.call('PUBLISH', ARGV[1], ARGV[i]) end
return 1
`);

export interface BusPublisherOptions {
  redis: RedisClient;
  region: string;
  topic: string;
  partitions: number;
  /** Names this member in its messages. */
  member: string;
  logger: Logger;
  heartbeatMs?: number;
  maxBytes?: number;
  registry?: Registry;
}

interface Pending {
  keys: Set<string>;
  tags: Set<string>;
  versions: Set<string>;
  patterns: Set<string>;
  flush: boolean;
  watermarks: Map<number, string>;
}

const empty = (): Pending => ({
  keys: new Set(),
  tags: new Set(),
  versions: new Set(),
  patterns: new Set(),
  flush: false,
  watermarks: new Map(),
});

/**
 * Tells the region's SDK instances what this member applied, AFTER Redis has it, and how far
 * each of its partitions is applied. Invalidations go out as soon as an event is applied; a
 * partition's watermark only once its whole chunk is (an event retried alone must not be
 * passed by a later one's LSN). Messages leave in apply order, one at a time, so a subscriber
 * never sees a watermark before the invalidations under it.
 *
 * A failed publish loses what it carried: the next message that gets through is a flush,
 * so instances drop everything rather than keep what they were never told about.
 */
export class BusPublisher {
  private pending = empty();
  /** Highest primary LSN applied per partition in the chunk under way. */
  private readonly candidate = new Map<number, string>();
  private scheduled = false;
  private chain: Promise<void> = Promise.resolve();
  private lost = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly channel: string;
  private readonly published: Counter | undefined;
  private readonly failures: Counter | undefined;

  constructor(private readonly opts: BusPublisherOptions) {
    this.channel = busChannel(opts.region);
    if (opts.registry) {
      this.published = new Counter({
        name: 'fabric_inval_bus_messages_total',
        help: 'Messages published on the region bus, by kind (invalidation, heartbeat)',
        labelNames: ['kind'],
        registers: [opts.registry],
      });
      this.failures = new Counter({
        name: 'fabric_inval_bus_publish_failures_total',
        help: 'Bus publishes that failed (the next one that succeeds is a flush)',
        registers: [opts.registry],
      });
    }
  }

  async start(): Promise<void> {
    await this.opts.redis
      .hset(APPLIED_LSNS_KEY, partitionCountField(this.opts.topic), String(this.opts.partitions))
      .catch((err: unknown) => this.opts.logger.warn({ err }, 'could not record the partition count for the bus'));
    this.timer = setInterval(() => this.heartbeat(), this.opts.heartbeatMs ?? BUS_HEARTBEAT_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.send();
    await this.chain;
  }

  /** An event is applied to Redis. */
  applied(event: InvalidationEvent, partition: number): void {
    const p = this.pending;
    for (const k of event.keys) p.keys.add(k);
    for (const t of event.tags) p.tags.add(t);
    for (const v of event.versions) p.versions.add(v);
    for (const x of event.patterns) p.patterns.add(x);
    // What a resync deleted is not listed in the event (it rendered it from the rules).
    if (event.operation === Operation.RESYNC) p.flush = true;
    if (event.primaryLsn !== '')
      this.candidate.set(partition, laterLsn(this.candidate.get(partition), event.primaryLsn));
    this.schedule();
  }

  /** A recovery ran (a resync event or a gap the consumer found): every instance drops its L1. */
  resynced(): void {
    this.pending.flush = true;
    this.schedule();
  }

  /** Every record of the partition's chunk is applied or dead-lettered: its watermark may move. */
  chunkDone(partition: number): void {
    const lsn = this.candidate.get(partition);
    if (lsn === undefined) return;
    this.candidate.delete(partition);
    this.pending.watermarks.set(partition, laterLsn(this.pending.watermarks.get(partition), lsn));
    this.schedule();
  }

  /** Events applied in one round are reported synchronously: one message for all of them. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.send());
  }

  private heartbeat(): void {
    this.chain = this.chain.then(() =>
      this.publish([this.message(empty())], 'heartbeat', (texts) => this.opts.redis.publish(this.channel, texts[0]!)),
    );
  }

  private send(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (!batch.flush && batch.keys.size + batch.tags.size + batch.versions.size + batch.patterns.size === 0)
      if (batch.watermarks.size === 0) return;
    this.pending = empty();
    this.chain = this.chain.then(() => this.deliver(batch));
  }

  private deliver(batch: Pending): Promise<void> {
    const raise = [...batch.watermarks].flatMap(([p, lsn]) => [appliedLsnField(this.opts.topic, p), lsnToHex16(lsn)]);
    return this.publish(this.split(batch), 'invalidation', (texts) =>
      deliverApplied.run(this.opts.redis, [APPLIED_LSNS_KEY], [this.channel, raise.length / 2, ...raise, ...texts]),
    );
  }

  /** Sends `messages` in one call; a failure loses them all, and the next delivery that gets through is a flush. */
  private async publish(
    messages: BusMessage[],
    kind: 'invalidation' | 'heartbeat',
    send: (texts: string[]) => Promise<unknown>,
  ): Promise<void> {
    if (this.lost && messages[0]) messages[0].flush = true;
    try {
      await send(messages.map(serializeBusMessage));
      if (this.lost) this.opts.logger.info('bus publishes succeed again; sent a flush for what was lost');
      this.lost = false;
      this.published?.inc({ kind }, messages.length);
    } catch (err) {
      if (!this.lost) this.opts.logger.warn({ err }, 'bus publish failed; L1 copies stay until a flush gets through');
      this.lost = true;
      this.failures?.inc();
    }
  }

  private message(batch: Pending, part: Partial<BusMessage> = {}): BusMessage {
    return {
      member: this.opts.member,
      topic: this.opts.topic,
      keys: [],
      tags: [],
      versions: [],
      patterns: [],
      flush: batch.flush,
      watermarks: {},
      partitions: this.opts.partitions,
      ...part,
    };
  }

  /** One message per chunk of names at most maxBytes; the watermarks ride on the last. */
  private split(batch: Pending): BusMessage[] {
    const names = [
      ...[...batch.keys].map((n) => ['keys', n] as const),
      ...[...batch.tags].map((n) => ['tags', n] as const),
      ...[...batch.versions].map((n) => ['versions', n] as const),
      ...[...batch.patterns].map((n) => ['patterns', n] as const),
    ];
    const chunks = chunkByBytes(
      names,
      ([, n]) => Buffer.byteLength(JSON.stringify(n)) + 1,
      this.opts.maxBytes ?? BUS_MESSAGE_MAX_BYTES,
    );
    if (chunks.length === 0) chunks.push([]);
    return chunks.map((chunk, i) => {
      const m = this.message(batch);
      for (const [field, name] of chunk) m[field].push(name);
      if (i === chunks.length - 1)
        m.watermarks = Object.fromEntries([...batch.watermarks].map(([p, l]) => [String(p), l]));
      return m;
    });
  }
}
