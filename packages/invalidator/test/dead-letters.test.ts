import { DEFAULT_BYTE_LIMITS } from '@fabric/contracts';
import { DeadLetterSchema, fromBinary } from '@fabric/proto';
import type { Producer, ProducerRecord } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { DeadLetterDraft } from '../src/batch-processor.js';
import { deadLetterPublisher } from '../src/dead-letters.js';

const draft = (offset: number, originalBytes: number): DeadLetterDraft => ({
  record: {
    topic: 'fabric.inval.eu-west',
    partition: 0,
    offset: String(offset),
    key: Buffer.from(`user:${offset}`),
    value: Buffer.alloc(originalBytes, 1),
  },
  cause: 'exhausted',
  reason: 'Redis refused the event',
  attempts: 8,
});

/** Records each request's bytes; refuses a request above `limit` the way kafkajs reports it. */
function broker(limit = Number.POSITIVE_INFINITY) {
  const requests: ProducerRecord[] = [];
  const bytes = (r: ProducerRecord) => r.messages.reduce((n, m) => n + (m.value as Buffer).byteLength, 0);
  const producer: Pick<Producer, 'send'> = {
    send: async (record) => {
      if (bytes(record) > limit)
        throw Object.assign(new Error('too large'), {
          retriable: false,
          cause: { name: 'KafkaJSProtocolError', type: 'MESSAGE_TOO_LARGE' },
        });
      requests.push(record);
      return [];
    },
  };
  return { producer, requests, bytes };
}

const publish = (producer: Pick<Producer, 'send'>) =>
  deadLetterPublisher(producer, 'eu-west', 'fabric.inval.eu-west.dlq', () => new Date(0));

describe('deadLetterPublisher', () => {
  it('sends a batch of many large dead letters in requests below the batch limit, in order', async () => {
    const b = broker();
    await publish(b.producer)(Array.from({ length: 200 }, (_, i) => draft(i, 50_000)));
    expect(b.requests.length).toBeGreaterThan(10);
    for (const r of b.requests) expect(b.bytes(r)).toBeLessThan(DEFAULT_BYTE_LIMITS.batchBytes);
    const offsets = b.requests.flatMap((r) => r.messages.map((m) => fromBinary(DeadLetterSchema, m.value as Buffer)));
    expect(offsets.map((d) => Number(d.sourceOffset))).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(offsets.every((d) => d.original.byteLength === 50_000)).toBe(true);
  });

  it('leaves out an original above the dead-letter limit and keeps its source as the reference', async () => {
    const b = broker();
    await publish(b.producer)([draft(7, 2 * 1024 * 1024)]);
    const [letter] = b.requests.flatMap((r) => r.messages.map((m) => fromBinary(DeadLetterSchema, m.value as Buffer)));
    expect(letter!.original.byteLength).toBe(0);
    expect(letter).toMatchObject({ sourceTopic: 'fabric.inval.eu-west', sourcePartition: 0, sourceOffset: 7n });
    expect(letter!.reason).toMatch(/^Redis refused the event \(original of 2097152 bytes left out/);
  });

  it('a letter the broker refuses anyway is halved out and sent as a reference; the rest whole', async () => {
    // A topic whose max.message.bytes (100 KB) sits below the fabric's limits.
    const b = broker(100_000);
    await publish(b.producer)([draft(1, 10), draft(2, 300_000), draft(3, 10)]);
    const letters = b.requests.flatMap((r) => r.messages.map((m) => fromBinary(DeadLetterSchema, m.value as Buffer)));
    expect(letters.map((d) => [Number(d.sourceOffset), d.original.byteLength])).toEqual([
      [1, 10],
      [2, 0],
      [3, 10],
    ]);
  });
});
