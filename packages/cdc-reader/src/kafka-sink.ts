import { createKafka, createProducer, type KafkaSecurity, RecoveringProducer } from '@fabric/runtime';
import { CompressionTypes, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { keyPartition } from './key-partition.js';
import type { OutgoingMessage, SendBatch } from './publisher.js';

export interface KafkaSink {
  /** The producer in use now: a lost idempotence state replaces it (see RecoveringProducer). */
  readonly producer: Producer;
  send: SendBatch;
  partitions: number;
  close(): Promise<void>;
}

/**
 * Idempotent producer with acks=all: a batch counts as sent only when every in-sync
 * replica has it. kafkajs retries a failing send until Kafka takes it, under the same
 * sequence numbers, so broker-side dedup stops those retries from duplicating; the
 * publisher's own retry covers what kafkajs gives up on (errors it does not retry). A
 * producer whose sequence numbers the broker no longer accepts is replaced by a new one.
 */
export async function connectKafkaSink(opts: {
  brokers: string[];
  security?: KafkaSecurity;
  clientId: string;
  topic: string;
  logger: Logger;
  /** The producer was recreated after the broker refused its sequence numbers (the error type). */
  onProducerRecreated?: (type: string) => void;
}): Promise<KafkaSink> {
  const kafka = createKafka({
    clientId: opts.clientId,
    brokers: opts.brokers,
    security: opts.security,
    logger: opts.logger,
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 5_000 },
  });
  const producer = new RecoveringProducer({
    create: () => createProducer(kafka, { initialRetryTime: 200, maxRetryTime: 5_000 }),
    logger: opts.logger,
    onRecreated: opts.onProducerRecreated,
  });
  const admin = kafka.admin();
  await Promise.all([producer.connect(), admin.connect()]);
  let partitions: number;
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [opts.topic] });
    partitions = meta.topics[0]?.partitions.length ?? 0;
  } finally {
    await admin.disconnect();
  }
  if (partitions === 0) throw new Error(`topic ${opts.topic} has no partitions; create it first`);

  const send: SendBatch = async (messages: OutgoingMessage[]) => {
    const byTopic = new Map<string, Array<{ key: string; value: Buffer; partition?: number }>>();
    for (const m of messages) {
      const list = byTopic.get(m.topic) ?? [];
      list.push({
        key: m.key,
        value: Buffer.from(m.value.buffer, m.value.byteOffset, m.value.byteLength),
        // Where kafkajs would put it (key-partition.ts), without its Long arithmetic. Dead
        // letters, rare, go to a topic whose partition count the sink does not hold: kafkajs places them.
        partition: m.partition ?? (m.topic === opts.topic ? keyPartition(m.key, partitions) : undefined),
      });
      byTopic.set(m.topic, list);
    }
    await producer.send((p) =>
      p.sendBatch({
        acks: -1,
        compression: CompressionTypes.None,
        topicMessages: [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs })),
      }),
    );
  };
  return {
    get producer() {
      return producer.current;
    },
    send,
    partitions,
    close: () => producer.disconnect(),
  };
}
