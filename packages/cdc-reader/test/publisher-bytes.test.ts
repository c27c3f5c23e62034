import { recordBytes } from '@fabric/contracts';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { type OutgoingMessage, Publisher } from '../src/publisher.js';

const logger = pino({ level: 'silent' });
const msg = (key: string, bytes: number, topic = 't'): OutgoingMessage => ({
  topic,
  key,
  value: new Uint8Array(bytes),
});

/** Refuses what a broker with `message.max.bytes` = limit refuses: a batch whose records sum above it. */
class SizeLimitedBroker {
  readonly batches: OutgoingMessage[][] = [];
  refusals = 0;
  private gate: Promise<void> | undefined;
  private release: (() => void) | undefined;
  constructor(private readonly limit: number) {}
  hold(): void {
    this.gate = new Promise((r) => (this.release = r));
  }
  open(): void {
    this.gate = undefined;
    this.release?.();
  }
  send = async (messages: OutgoingMessage[]): Promise<void> => {
    if (this.gate) await this.gate;
    const bytes = messages.reduce((n, m) => n + recordBytes(m), 0);
    if (bytes > this.limit) {
      this.refusals++;
      // What kafkajs surfaces: a non-retriable protocol error, wrapped, with the broker's type.
      throw Object.assign(new Error('The request included a message larger than the max message size'), {
        name: 'KafkaJSNonRetriableError',
        retriable: false,
        cause: { name: 'KafkaJSProtocolError', type: 'MESSAGE_TOO_LARGE', retriable: false },
      });
    }
    this.batches.push(messages);
  };
}

describe('Publisher byte bounds', () => {
  it('cuts batches by bytes so none exceeds maxBatchBytes, in order', async () => {
    const broker = new SizeLimitedBroker(100_000);
    const confirmed: string[] = [];
    const p = new Publisher({
      send: broker.send,
      onConfirmed: (l) => confirmed.push(l),
      logger,
      maxBatch: 500,
      maxBatchBytes: 100_000,
      lingerMs: 5,
    });
    // 300 dead letters of 30 KB, one commit: 9 MB that a count-only batch would send at once.
    for (let i = 0; i < 300; i++) await p.enqueue(msg(String(i), 30_000));
    p.commit('0/10');
    await p.close();
    expect(broker.refusals).toBe(0);
    for (const batch of broker.batches)
      expect(batch.reduce((n, m) => n + recordBytes(m), 0)).toBeLessThanOrEqual(100_000);
    expect(broker.batches.flat().map((m) => m.key)).toEqual(Array.from({ length: 300 }, (_, i) => String(i)));
    expect(confirmed).toEqual(['0/10']);
  });

  it('holds enqueue() once maxPendingBytes are unacknowledged: backpressure, nothing dropped', async () => {
    const broker = new SizeLimitedBroker(Number.POSITIVE_INFINITY);
    broker.hold();
    const p = new Publisher({
      send: broker.send,
      onConfirmed: () => {},
      logger,
      maxBatch: 500,
      maxBatchBytes: 200_000,
      maxPendingBytes: 1_000_000,
      lingerMs: 0,
    });
    let enqueued = 0;
    const writer = (async () => {
      for (let i = 0; i < 200; i++) {
        await p.enqueue(msg(String(i), 50_000));
        enqueued++;
      }
    })();
    // 20 messages of ~50 KB reach 1 MB: the 20th enqueue waits, far below the 20,000-message bound.
    await vi.waitFor(() => expect(p.pendingByteCount).toBeGreaterThanOrEqual(1_000_000));
    for (let turn = 0; turn < 50; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(enqueued).toBe(19);
    expect(p.pending).toBe(20);
    broker.open();
    await writer;
    await p.close();
    expect(broker.batches.flat()).toHaveLength(200);
    expect(p.pendingByteCount).toBe(0);
  });

  it('a refused record is isolated and replaced by its dead letter; the commit is confirmed', async () => {
    // The reader's limits say 200 KB, the broker (a topic's max.message.bytes) only 100 KB.
    const broker = new SizeLimitedBroker(100_000);
    const confirmed: string[] = [];
    const onRefused = vi.fn((m: OutgoingMessage, reason: string) => msg(`dlq:${m.key}:${reason}`, 100, 'dlq'));
    const p = new Publisher({
      send: broker.send,
      onConfirmed: (l) => confirmed.push(l),
      logger,
      maxBatch: 500,
      maxBatchBytes: 400_000,
      lingerMs: 5,
      onRefused,
      retryBaseMs: 1,
    });
    await p.enqueue(msg('a', 10));
    await p.enqueue(msg('big', 150_000));
    await p.enqueue(msg('b', 10));
    p.commit('0/20');
    await p.close(5_000);
    expect(onRefused).toHaveBeenCalledTimes(1);
    expect(broker.batches.flat().map((m) => m.key)).toEqual(['a', 'dlq:big:refused by kafka: MESSAGE_TOO_LARGE', 'b']);
    expect(confirmed).toEqual(['0/20']);
  });

  it('retries a stand-in the broker refuses in turn until the topic takes it; nothing is confirmed before', async () => {
    const broker = new SizeLimitedBroker(100);
    const confirmed: string[] = [];
    const p = new Publisher({
      send: broker.send,
      onConfirmed: (l) => confirmed.push(l),
      logger,
      maxBatch: 500,
      lingerMs: 0,
      retryBaseMs: 1,
      retryCapMs: 2,
      onRefused: () => msg('stand-in', 500, 'dlq'),
    });
    await p.enqueue(msg('big', 1_000));
    p.commit('0/30');
    await vi.waitFor(() => expect(broker.refusals).toBeGreaterThan(3));
    expect(confirmed).toEqual([]);
    expect(p.unacknowledged?.failedAttempts).toBeGreaterThan(0);
    // The operator raises the topic's max.message.bytes: the stand-in goes through, then the commit.
    (broker as unknown as { limit: number }).limit = 1_000;
    await p.close(5_000);
    expect(broker.batches.flat().map((m) => m.key)).toEqual(['stand-in']);
    expect(confirmed).toEqual(['0/30']);
  });
});
