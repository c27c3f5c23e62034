// Reads the fabric's own view: invalidator /healthz, reader /healthz, Kafka consumer lag.
import { Kafka, logLevel } from 'kafkajs';

export async function getJson(url, timeoutMs = 2000) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return await res.json();
  } catch {
    return null;
  }
}

export const invalidatorHealth = (r) => getJson(`http://${r.redis.host}:${r.metrics.invalidator}/healthz`);
export const readerHealth = (r) => getJson(`http://${r.postgres.host}:${r.metrics.reader}/healthz`);

/** Sum over partitions of end offset − committed offset of the region's invalidator group. */
export class KafkaLag {
  constructor(regions) {
    this.admins = new Map(regions.map((r) => [r.region, { r, admin: new Kafka({ clientId: 'bench', brokers: r.kafka.brokers, logLevel: logLevel.NOTHING }).admin() }]));
  }
  async open() {
    for (const { admin } of this.admins.values()) await admin.connect();
  }
  async close() {
    for (const { admin } of this.admins.values()) await admin.disconnect().catch(() => {});
  }
  async lag(region, groupId = `fabric-invalidator-${region}`) {
    const { r, admin } = this.admins.get(region);
    try {
      const ends = await admin.fetchTopicOffsets(r.kafka.topic);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [r.kafka.topic] });
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
  async topicEnd(region, topic) {
    const { admin } = this.admins.get(region);
    try {
      const ends = await admin.fetchTopicOffsets(topic);
      return ends.reduce((a, e) => a + Number(e.high), 0);
    } catch {
      return null;
    }
  }
}
