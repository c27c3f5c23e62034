import { randomBytes } from 'node:crypto';
import { createKafka, createProducer } from '@fabric/runtime';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DeadLetterDraft } from '../../packages/invalidator/src/batch-processor.js';
import { deadLetterPublisher } from '../../packages/invalidator/src/dead-letters.js';
import { decodeDeadLetter, readTopic } from '../cdc/harness.js';

const draft = (offset: number, originalBytes: number): DeadLetterDraft => ({
  record: {
    topic: 'fabric.inval.source',
    partition: 0,
    offset: String(offset),
    key: Buffer.from(`user:${offset}`),
    value: randomBytes(originalBytes),
  },
  cause: 'exhausted',
  reason: 'Redis refused the event',
  attempts: 8,
});

/** The invalidator's dead-letter path against the sandbox broker (message.max.bytes 1,048,588). */
describe('invalidator dead letters against a real broker', () => {
  const region = inject('endpoints').regions.find((r) => r.home)!;
  const topic = `${region.kafka.topic}.dlq-limits.${randomBytes(3).toString('hex')}`;
  let producer: Producer;

  beforeAll(async () => {
    const admin = new Kafka({ brokers: region.kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();
    const kafka = createKafka({
      clientId: 'dlq-limits-test',
      brokers: region.kafka.brokers,
      logger: pino({ level: 'silent' }),
    });
    producer = createProducer(kafka, { initialRetryTime: 200, maxRetryTime: 5_000 });
    await producer.connect();
  });
  afterAll(() => producer?.disconnect());

  it('publishes a batch of 200 dead letters of 50 KB (10 MB) without MESSAGE_TOO_LARGE, and a 2 MB original as a reference', async () => {
    const drafts = [...Array.from({ length: 200 }, (_, i) => draft(i, 50_000)), draft(200, 2 * 1024 * 1024)];
    await deadLetterPublisher(producer, region.region, topic)(drafts);
    const letters = await readTopic(region, topic, decodeDeadLetter, (ds) => ds.length >= drafts.length);
    expect(letters.map((d) => Number(d.sourceOffset))).toEqual(drafts.map((d) => Number(d.record.offset)));
    expect(letters.slice(0, 200).every((d) => d.original.byteLength === 50_000)).toBe(true);
    expect(letters[200]!.original.byteLength).toBe(0);
    expect(letters[200]!.reason).toContain('original of 2097152 bytes left out');
  });
});
