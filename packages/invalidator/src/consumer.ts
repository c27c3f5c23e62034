import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { BatchProcessor, SourceRecord } from './batch-processor.js';
import type { FreshnessTracker } from './freshness.js';

export interface RegionConsumerOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  /** Records per processing chunk; offsets are committed after each chunk. */
  maxBatch: number;
  processor: BatchProcessor;
  freshness: FreshnessTracker;
  logger: Logger;
  onBatch?: (size: number) => void;
}

/**
 * The region's consumer group member. Partitions are processed concurrently, each in
 * order; a chunk's offset is resolved and committed only once the processor says every
 * record in it is applied or dead-lettered. Nothing is auto-committed.
 */
export class RegionConsumer {
  private consumer: Consumer | undefined;
  /** Partitions this member holds since the last rebalance; empty until it joined. */
  assigned: number[] = [];
  private crashed!: (err: Error) => void;
  /** Settles when kafkajs gave up on the consumer; the process should exit and be restarted. */
  readonly failure = new Promise<Error>((resolve) => (this.crashed = resolve));

  constructor(private readonly opts: RegionConsumerOptions) {}

  async start(partitions: number): Promise<void> {
    const { kafka, topic, groupId, logger, freshness } = this.opts;
    const consumer = kafka.consumer({
      groupId,
      // A member that died without leaving blocks its partitions until its session expires:
      // short, so a crashed invalidator's successor takes over within seconds. Retries
      // heartbeat every second, so long backoffs do not expire it.
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      rebalanceTimeout: 30_000,
      // An idle fetch returns after this long; a fetch with data returns at once.
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const assigned = payload.memberAssignment[topic] ?? [];
      this.assigned = [...assigned].sort((a, b) => a - b);
      freshness.retain(assigned);
      logger.info({ partitions: assigned, generation: payload.groupId }, 'partitions assigned');
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) logger.warn({ err: payload.error }, 'consumer restarting after an error');
      else this.crashed(payload.error);
    });
    await consumer.connect();
    // A new group starts at the beginning: events published before the first start are not skipped.
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, partitions),
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary }: EachBatchPayload): Promise<void> {
    const control = { heartbeat, isRunning: () => isRunning() && !isStale() };
    for (let i = 0; i < batch.messages.length; i += this.opts.maxBatch) {
      if (!control.isRunning()) return;
      const chunk = batch.messages.slice(i, i + this.opts.maxBatch);
      const records: SourceRecord[] = chunk.map((m) => ({ topic: batch.topic, partition: batch.partition, offset: m.offset, key: m.key, value: m.value }));
      this.opts.onBatch?.(records.length);
      const outcome = await this.opts.processor.process(records, control);
      // Unresolved, the chunk is fetched again by whoever owns the partition next.
      if (outcome.status === 'interrupted') return;
      const last = chunk[chunk.length - 1]!.offset;
      resolveOffset(last);
      await commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(last) + 1n).toString() }] }] });
      await heartbeat();
    }
  }

  /** Leaves the group; a chunk being retried stops at its next slice and stays uncommitted. */
  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}
