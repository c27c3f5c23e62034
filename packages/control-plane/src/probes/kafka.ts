import { kafkaErrorHint, kafkaFieldNames } from '@fabric/runtime';
import type { TopicOffsets } from '../lag.js';
import { isBrokerAnswer, type RegionKafka } from '../region-kafka.js';
import type { DeadLetterOffsets } from '../replay-ledger.js';
import type { Observed } from './observed.js';

/** End offsets of the region topic and what the invalidator group committed on it. */
export async function probeTopicOffsets(
  kafka: RegionKafka,
  topic: string,
  groupId: string,
): Promise<Observed<TopicOffsets[]>> {
  try {
    const [ends, committed] = await Promise.all([
      kafka.admin('topic offsets', (a) => a.fetchTopicOffsets(topic)),
      kafka.admin('group offsets', (a) => a.fetchOffsets({ groupId, topics: [topic] })),
    ]);
    const byPartition = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
    const value = ends
      .map(({ partition, high, low }) => {
        const c = byPartition.get(partition);
        // Kafka answers -1 for a partition the group never committed.
        return {
          partition,
          start: BigInt(low),
          end: BigInt(high),
          committed: c === undefined || c < 0n ? undefined : c,
        };
      })
      .sort((a, b) => a.partition - b.partition);
    return { status: 'healthy', value };
  } catch (err) {
    const message = (err as Error).message;
    if (isBrokerAnswer(err)) return { status: 'unhealthy', detail: message };
    // A broker that wants TLS or SASL only hangs up: name the region's setting that is missing.
    const hint = kafkaErrorHint(err, kafka.security, kafkaFieldNames(kafka.at));
    return { status: 'unreachable', detail: hint ? `${hint} (${message})` : message };
  }
}

export async function deadLetterOffsets(kafka: RegionKafka, topic: string): Promise<DeadLetterOffsets[]> {
  const offsets = await kafka.admin('DLQ offsets', (a) => a.fetchTopicOffsets(topic));
  return offsets
    .map(({ partition, low, high }) => ({ partition, start: BigInt(low), end: BigInt(high) }))
    .sort((a, b) => a.partition - b.partition);
}
