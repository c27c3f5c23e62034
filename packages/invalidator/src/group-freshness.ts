import { APPLIED_COMMIT_TIMES_KEY, appliedCommitTimeField, COMMIT_TIME_SKEW_MS } from '@fabric/contracts';
import type { RedisClient } from '@fabric/sdk';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { FreshnessTracker } from './freshness.js';

export interface GroupPartition {
  partition: number;
  lastAppliedCommitMs: number | null;
  source: 'this' | 'group';
}

export interface GroupFreshnessView {
  /** Oldest over every partition that has a time; null while none has. */
  lastAppliedCommitMs: number | null;
  partitions: GroupPartition[];
  /** When the group's records were last read; null before the first read. */
  readAt: number | null;
}

export interface GroupFreshnessOptions {
  redis: RedisClient;
  topic: string;
  /** Partitions of the topic: every one counts, whoever holds it. */
  partitions: number;
  tracker: FreshnessTracker;
  /** How often this member records its times and reads everyone's (ms). */
  periodMs?: number;
  registry?: Registry;
  logger: Logger;
  now?: () => number;
}

/**
 * The group's freshness, the same whichever member is asked. Every member records its
 * partitions' newest applied commit times in one regional Redis hash and reads the whole
 * hash back, so a member answering the control plane also counts the partitions of a
 * member that stopped (its records stop moving and age) and of a partition a member holds
 * but has not applied (its seed is recorded, only where nothing was). Redis, rather than
 * the group's committed offsets, because an offset says how far but not how old, and the
 * region's Redis is what every invalidator already reaches.
 *
 * Records lag the members by up to one period each way: freshness reads that much staler,
 * never fresher.
 */
export class GroupFreshness {
  private readonly recorded = new Map<number, number>();
  private readAt: number | null = null;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private failing = false;
  private readonly now: () => number;

  constructor(private readonly opts: GroupFreshnessOptions) {
    this.now = opts.now ?? Date.now;
    if (opts.registry) {
      const group = this;
      new Gauge({
        name: 'fabric_inval_group_freshness_seconds',
        help: 'Now minus the oldest newest-applied primary commit time over every partition of the group (as recorded in Redis); absent before the first',
        registers: [opts.registry],
        collect() {
          const last = group.view().lastAppliedCommitMs;
          if (last === null) this.reset();
          else this.set(Math.max(0, (group.now() - last) / 1000));
        },
      });
    }
  }

  start(): void {
    this.timer = setInterval(() => void this.sync(), this.opts.periodMs ?? 1_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.inFlight;
  }

  /** What the group recorded per partition, for seeding partitions this member was just given. */
  async records(): Promise<Map<number, number>> {
    const { redis, topic, partitions } = this.opts;
    const fields = Array.from({ length: partitions }, (_, p) => appliedCommitTimeField(topic, p));
    const values = await redis.hmget(APPLIED_COMMIT_TIMES_KEY, ...fields);
    const out = new Map<number, number>();
    const latest = this.now() + COMMIT_TIME_SKEW_MS;
    values.forEach((v, p) => {
      const ms = v === null ? Number.NaN : Number(v);
      // A record from the future (a member with a wrong clock) says nothing true about the partition.
      if (Number.isFinite(ms) && ms <= latest) out.set(p, ms);
    });
    return out;
  }

  /** Records this member's times, then reads everyone's; one round at a time. */
  sync(): Promise<void> {
    this.inFlight ??= this.round().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async round(): Promise<void> {
    const { redis, topic, tracker, logger } = this.opts;
    try {
      const applied: Record<string, string> = {};
      const seeded: Array<[string, string]> = [];
      for (const p of tracker.partitions()) {
        const field = appliedCommitTimeField(topic, p.partition);
        if (p.source === 'applied') applied[field] = String(p.lastAppliedCommitMs);
        else seeded.push([field, String(p.lastAppliedCommitMs)]);
      }
      if (Object.keys(applied).length > 0) await redis.hset(APPLIED_COMMIT_TIMES_KEY, applied);
      // A seed only fills a gap: it must not overwrite what a previous owner really applied.
      for (const [field, ms] of seeded) await redis.hsetnx(APPLIED_COMMIT_TIMES_KEY, field, ms);
      const records = await this.records();
      this.recorded.clear();
      for (const [p, ms] of records) this.recorded.set(p, ms);
      this.readAt = this.now();
      if (this.failing) logger.info('group freshness records readable again');
      this.failing = false;
    } catch (err) {
      // The last read stays, and ages: freshness reads staler, never fresher.
      if (!this.failing) logger.warn({ err }, 'cannot record or read group freshness in Redis; retrying every period');
      this.failing = true;
    }
  }

  view(): GroupFreshnessView {
    // The tracker holds exactly this member's partitions (it is trimmed at every join).
    const own = new Map(this.opts.tracker.partitions().map((p) => [p.partition, p.lastAppliedCommitMs]));
    const partitions: GroupPartition[] = Array.from({ length: this.opts.partitions }, (_, partition) =>
      own.has(partition)
        ? { partition, lastAppliedCommitMs: own.get(partition)!, source: 'this' }
        : { partition, lastAppliedCommitMs: this.recorded.get(partition) ?? null, source: 'group' },
    );
    const known = partitions.map((p) => p.lastAppliedCommitMs).filter((ms) => ms !== null);
    return {
      lastAppliedCommitMs: known.length === 0 ? null : Math.min(...known),
      partitions,
      readAt: this.readAt,
    };
  }
}
