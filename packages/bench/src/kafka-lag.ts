// Kafka consumer lag and topic end offsets per region, through one admin client each.

import { invalidatorGroup } from '@fabric/contracts';
import type { RegionEndpoints } from '@fabric/sandbox';
import { type Admin, Kafka, logLevel } from 'kafkajs';

/** Sum over partitions of end offset − committed offset of the region's invalidator group. */
export class KafkaLag {
  private readonly admins: Map<string, { r: RegionEndpoints; admin: Admin }>;

  constructor(regions: readonly RegionEndpoints[]) {
    this.admins = new Map(
      regions.map((r) => [
        r.region,
        { r, admin: new Kafka({ clientId: 'bench', brokers: r.kafka.brokers, logLevel: logLevel.NOTHING }).admin() },
      ]),
    );
  }

  async open(): Promise<void> {
    for (const { admin } of this.admins.values()) await admin.connect();
  }

  async close(): Promise<void> {
    for (const { admin } of this.admins.values()) await admin.disconnect().catch(() => {});
  }

  /** null when the broker does not answer. */
  async lag(region: string, groupId = invalidatorGroup(region)): Promise<number | null> {
    const { r, admin } = this.entry(region);
    try {
      const ends = await admin.fetchTopicOffsets(r.kafka.topic);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [r.kafka.topic] });
      if (!committed) return null;
      let lag = 0;
      for (const e of ends) {
        const c = committed.partitions.find((p) => p.partition === e.partition);
        const co = c && Number(c.offset) >= 0 ? Number(c.offset) : 0;
        lag += Math.max(0, Number(e.high) - co);
      }
      return lag;
    } catch {
      return null;
    }
  }

  /** True when every named region's invalidator has committed to the end of its topic. */
  async drained(regions: readonly string[]): Promise<boolean> {
    return (await Promise.all(regions.map((r) => this.lag(r)))).every((l) => l === 0);
  }

  /** Sum over partitions of the region's invalidator group's committed offsets; null when the broker does not answer. */
  async committedTotal(region: string, groupId = invalidatorGroup(region)): Promise<number | null> {
    const { r, admin } = this.entry(region);
    return groupCommittedTotal(admin, groupId, r.kafka.topic).catch(() => null);
  }

  /** Sum of the topic's partitions' end offsets; null when the broker does not answer. */
  async topicEnd(region: string, topic: string): Promise<number | null> {
    const { admin } = this.entry(region);
    return topicEndTotal(admin, topic).catch(() => null);
  }

  private entry(region: string): { r: RegionEndpoints; admin: Admin } {
    const e = this.admins.get(region);
    if (!e) throw new Error(`no Kafka admin for region ${region}`);
    return e;
  }
}

/** Sum over the topic's partitions of the group's committed offsets (a partition without one counts 0). */
export async function groupCommittedTotal(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (committed?.partitions ?? []).reduce((a, p) => a + Math.max(0, Number(p.offset)), 0);
}

/** Sum of the topic's partitions' end offsets. */
export async function topicEndTotal(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((a, e) => a + Number(e.high), 0);
}
