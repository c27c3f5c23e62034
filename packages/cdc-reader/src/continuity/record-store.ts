import { type ContinuityRecord, continuityFields, continuityKey, parseContinuityRecord } from '@fabric/contracts';
import type { Cluster, Redis } from 'ioredis';

/** The region's continuity record, in the region's Redis (see continuityKey for why there). */
export class ContinuityStore {
  private readonly key: string;

  /** `topic`: the region's invalidation topic, which names the stream's record. */
  constructor(
    private readonly redis: Redis | Cluster,
    topic: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.key = continuityKey(topic);
  }

  async read(): Promise<ContinuityRecord | undefined> {
    return parseContinuityRecord(await this.redis.hgetall(this.key));
  }

  async write(record: Omit<ContinuityRecord, 'updatedAt'>): Promise<void> {
    await this.redis.hset(this.key, continuityFields({ ...record, updatedAt: this.now().toISOString() }));
  }

  /** Moves the confirmed position on, with the timeline it is on; called before the slot is confirmed there. */
  async confirmed(lsn: string, timeline: number): Promise<void> {
    await this.redis.hset(this.key, {
      confirmedLsn: lsn,
      timeline: String(timeline),
      updatedAt: this.now().toISOString(),
    });
  }
}
