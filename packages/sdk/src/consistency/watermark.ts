import {
  APPLIED_LSNS_KEY,
  appliedLsnField,
  hex16ToLsn,
  isLsn,
  lsnToBigInt,
  partitionCountField,
} from '@fabric/contracts';
import type { RedisClient } from '../script.js';

interface Waiter {
  target: bigint;
  resolve: (reached: boolean) => void;
  timer: NodeJS.Timeout;
}

/**
 * The region's applied watermark in the primary's LSN space: the minimum, over every
 * partition of the region's topic, of the primary LSN that partition is applied up to. It
 * is unknown (nothing is reached) until every partition has reported, so a partition nobody
 * applied yet holds every token back rather than being skipped. Positions only ever rise.
 */
export class RegionWatermark {
  private partitions = 0;
  private readonly lsns = new Map<number, bigint>();
  private readonly waiters = new Set<Waiter>();

  constructor(readonly topic: string) {}

  /** Partition -> "X/Y" (from the bus); `partitions` 0 leaves the count as it was. */
  advance(partitions: number, watermarks: Record<string, string>): void {
    if (partitions > 0) this.partitions = partitions;
    for (const [p, lsn] of Object.entries(watermarks)) if (isLsn(lsn)) this.raise(Number(p), lsnToBigInt(lsn));
    this.wake();
  }

  /** Reads the hash the invalidators keep (on every (re)subscribe: what the bus said while away). */
  async seed(redis: RedisClient): Promise<void> {
    const fields = await redis.hgetall(APPLIED_LSNS_KEY);
    const count = Number(fields[partitionCountField(this.topic)]);
    if (Number.isInteger(count) && count > 0) this.partitions = count;
    for (let p = 0; p < this.partitions; p++) {
      const lsn = hex16ToLsn(fields[appliedLsnField(this.topic, p)]);
      if (lsn !== undefined) this.raise(p, lsnToBigInt(lsn));
    }
    this.wake();
  }

  current(): bigint | undefined {
    if (this.partitions === 0) return undefined;
    let min: bigint | undefined;
    for (let p = 0; p < this.partitions; p++) {
      const lsn = this.lsns.get(p);
      if (lsn === undefined) return undefined;
      if (min === undefined || lsn < min) min = lsn;
    }
    return min;
  }

  reached(target: bigint): boolean {
    const now = this.current();
    return now !== undefined && now >= target;
  }

  /** True once reached, false after `ms` without. */
  wait(target: bigint, ms: number): Promise<boolean> {
    if (this.reached(target)) return Promise.resolve(true);
    if (!(ms > 0)) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        target,
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          resolve(false);
        }, ms),
      };
      waiter.timer.unref();
      this.waiters.add(waiter);
    });
  }

  private raise(partition: number, lsn: bigint): void {
    const was = this.lsns.get(partition);
    if (was === undefined || lsn > was) this.lsns.set(partition, lsn);
  }

  private wake(): void {
    for (const w of this.waiters)
      if (this.reached(w.target)) {
        clearTimeout(w.timer);
        this.waiters.delete(w);
        w.resolve(true);
      }
  }
}
