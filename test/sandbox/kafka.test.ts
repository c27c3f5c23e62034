import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, inject, it } from 'vitest';

describe('sandbox kafka', () => {
  const endpoints = inject('endpoints');

  it.each(endpoints.regions.map((r) => [r.region, r] as const))(
    'consumes back a message produced to %s',
    async (_name, region) => {
      const kafka = new Kafka({ clientId: 'sandbox-test', brokers: region.kafka.brokers, logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      const topics = await admin.listTopics();
      expect(topics).toEqual(expect.arrayContaining([region.kafka.topic, region.kafka.deadLetterTopic]));
      await admin.disconnect();

      const marker = randomUUID();
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      await producer.send({ topic: region.kafka.topic, acks: -1, messages: [{ key: marker, value: marker }] });
      await producer.disconnect();

      const consumer = kafka.consumer({ groupId: `sandbox-test-${marker}` });
      await consumer.connect();
      await consumer.subscribe({ topic: region.kafka.topic, fromBeginning: true });
      const received = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no message back from ${region.kafka.topic}`)), 30_000);
        void consumer.run({
          eachMessage: async ({ message }) => {
            if (message.value?.toString() === marker) {
              clearTimeout(timer);
              resolve(message.key!.toString());
            }
          },
        });
      });
      await consumer.disconnect();
      expect(received).toBe(marker);
    },
  );
});
