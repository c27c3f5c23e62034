import { setTimeout as sleep } from 'node:timers/promises';
import { createKafka, createProducer, type KafkaSecurity } from '@fabric/runtime';
import { type Admin, type Kafka, logLevel, type Producer, type RecordMetadata } from 'kafkajs';
import type { Logger } from 'pino';
import { withTimeout } from './probes/observed.js';

export interface OutgoingRecord {
  key: string;
  value: Uint8Array | string;
  /** Set for a record every partition gets a copy of (a resync); else the key picks the partition. */
  partition?: number;
}

/**
 * The control plane's Kafka clients for one region, connected on first use and kept.
 * Admin calls are bounded by the probe timeout (a broker that does not answer must not
 * stall a lag report); a failed admin client is dropped so the next call reconnects.
 */
export class RegionKafka {
  readonly kafka: Kafka;
  private adminClient: Promise<Admin> | undefined;
  private producerClient: Promise<Producer> | undefined;
  private adminQueue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly region: string,
    brokers: string[],
    private readonly timeoutMs: number,
    logger: Logger,
    /** TLS and SASL to the brokers (none: plaintext). */
    readonly security: KafkaSecurity = {},
    /** The region's JSON path in the configuration, for hints naming its kafkaTls/kafkaSasl. */
    readonly at = `regions[name=${region}]`,
  ) {
    this.kafka = createKafka({
      clientId: `fabric-control-plane-${region}`,
      brokers,
      security,
      logger,
      connectionTimeout: timeoutMs,
      requestTimeout: Math.max(timeoutMs, 5_000),
      // A region that cannot be reached is reported through the API and metrics on every
      // probe; kafkajs logging each failed connect as an error would only flood the log.
      logLevel: logger.isLevelEnabled('debug') ? undefined : logLevel.NOTHING,
    });
  }

  async admin<T>(what: string, work: (admin: Admin) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    for (let attempt = 1; ; attempt++) {
      this.adminClient ??= this.connectAdmin();
      const client = this.adminClient;
      try {
        return await withTimeout(
          `${this.region} kafka ${what}`,
          Math.max(1, deadline - Date.now()),
          this.oneAtATime(() => client.then(work)),
        );
      } catch (err) {
        if (!isBrokerAnswer(err)) {
          if (this.adminClient === client) this.adminClient = undefined;
          void client.then((a) => a.disconnect()).catch(() => undefined);
          throw err;
        }
        // Some answers clear in a moment, e.g. NOT_COORDINATOR while a fresh cluster
        // places a group's coordinator (kafkajs does not retry group offset fetches).
        // An unknown topic is an answer: topics are created explicitly, never on the fly.
        const wait = 100 * attempt;
        if (!(err as { retriable?: boolean }).retriable || isUnknownTopic(err) || Date.now() + wait >= deadline)
          throw err;
        await sleep(wait);
      }
    }
  }

  /**
   * kafkajs keeps one set of topics per client and refreshes metadata for all of them:
   * concurrent calls, one of them about a missing topic, can leave that topic in the set
   * and fail every later call. One call at a time lets kafkajs put the set back.
   */
  private oneAtATime<T>(work: () => Promise<T>): Promise<T> {
    const run = this.adminQueue.then(work, work);
    this.adminQueue = run.catch(() => undefined);
    return run;
  }

  /**
   * Durable, ordered publishing: acks from every in-sync replica, one request in flight,
   * and the Java client's partitioner so a key lands where the reader put it. A publish
   * answers an RPC, so it gives up after a few retries rather than wait out a region's
   * outage; the producer is then not idempotent, and a retry may duplicate an event,
   * which is harmless (applying an event twice changes nothing more).
   */
  async publish(topic: string, records: OutgoingRecord[]): Promise<RecordMetadata[]> {
    this.producerClient ??= this.connectProducer();
    const producer = this.producerClient;
    try {
      return await (await producer).send({
        topic,
        acks: -1,
        messages: records.map((r) => ({
          key: r.key,
          partition: r.partition,
          value:
            typeof r.value === 'string' ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength),
        })),
      });
    } catch (err) {
      if (this.producerClient === producer) {
        this.producerClient = undefined;
        void producer.then((p) => p.disconnect()).catch(() => undefined);
      }
      throw err;
    }
  }

  /** The topic's partition ids, in order; an unknown topic is a broker answer (isUnknownTopic). */
  async partitions(topic: string): Promise<number[]> {
    const { topics } = await this.admin('topic metadata', (a) => a.fetchTopicMetadata({ topics: [topic] }));
    return (topics.find((t) => t.name === topic)?.partitions ?? []).map((p) => p.partitionId).sort((a, b) => a - b);
  }

  async close(): Promise<void> {
    const clients = [this.adminClient, this.producerClient];
    this.adminClient = this.producerClient = undefined;
    await Promise.allSettled(clients.map(async (c) => (await c)?.disconnect()));
  }

  private async connectAdmin(): Promise<Admin> {
    const admin = this.kafka.admin({ retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 400 } });
    await admin.connect();
    return admin;
  }

  private async connectProducer(): Promise<Producer> {
    const producer = createProducer(this.kafka, { maxRetries: 5, initialRetryTime: 200, maxRetryTime: 5_000 });
    await producer.connect();
    return producer;
  }
}

/** A Kafka protocol error means the broker answered (e.g. unknown topic); the connection is fine. */
export function isBrokerAnswer(err: unknown): boolean {
  for (
    let e = err as { name?: string; cause?: unknown } | undefined, depth = 0;
    e && depth < 5;
    e = e.cause as typeof e, depth++
  ) {
    if (e.name === 'KafkaJSProtocolError') return true;
  }
  return false;
}

/** kafkajs says "unknown topic" in a protocol error of this type. */
export function isUnknownTopic(err: unknown): boolean {
  for (
    let e = err as { type?: string; cause?: unknown } | undefined, depth = 0;
    e && depth < 5;
    e = e.cause as typeof e, depth++
  ) {
    if (e.type === 'UNKNOWN_TOPIC_OR_PARTITION') return true;
  }
  return false;
}
