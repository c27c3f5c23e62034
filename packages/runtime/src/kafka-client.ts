import {
  Kafka,
  type KafkaConfig,
  type logLevel,
  Partitioners,
  type Producer,
  type RetryOptions,
  type SASLOptions,
} from 'kafkajs';
import type { Logger } from 'pino';
import { kafkaLogCreator, kafkaLogLevel } from './kafka-logger.js';
import type { KafkaSecurity } from './kafka-security.js';
import { stopKafkajsIdleLoop } from './kafkajs-idle-loop.js';

export interface KafkaClientOptions {
  clientId: string;
  brokers: string[];
  /** kafkajs logs go here (see kafkaLogCreator). */
  logger: Logger;
  /** Connects, metadata and admin calls. A producer's sends retry on their own terms: see createProducer. */
  retry?: RetryOptions;
  connectionTimeout?: number;
  requestTimeout?: number;
  /** kafkajs's own level; by default the one matching the logger's (kafkaLogLevel). */
  logLevel?: logLevel;
  /** TLS and SASL to the brokers (parseKafkaSecurity); none is plaintext. */
  security?: KafkaSecurity;
}

/** A kafkajs client logging through pino, as every fabric component builds it. */
export function createKafka(opts: KafkaClientOptions): Kafka {
  stopKafkajsIdleLoop();
  return new Kafka({
    clientId: opts.clientId,
    brokers: opts.brokers,
    logCreator: kafkaLogCreator(opts.logger),
    logLevel: opts.logLevel ?? kafkaLogLevel(opts.logger),
    retry: opts.retry,
    connectionTimeout: opts.connectionTimeout,
    requestTimeout: opts.requestTimeout,
    ...kafkaSecurityOptions(opts.security),
  });
}

function kafkaSecurityOptions(security: KafkaSecurity | undefined): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  if (!security) return {};
  const { tls, sasl } = security;
  return {
    // A CA given replaces the system's roots: the brokers of a private CA are verified
    // against it alone. Verification itself is never turned off.
    ...(tls ? { ssl: { rejectUnauthorized: true, ca: tls.ca, cert: tls.cert, key: tls.key } } : {}),
    ...(sasl ? { sasl: saslOption(sasl) } : {}),
  };
}

function saslOption(sasl: NonNullable<KafkaSecurity['sasl']>): SASLOptions {
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}

export interface ProducerOptions {
  /** Waits between send retries: the first, and the largest they grow to (ms). */
  initialRetryTime?: number;
  maxRetryTime?: number;
  /**
   * Gives a send up after this many retries, for a caller that must answer in bounded time
   * and to which a duplicate is harmless. Such a producer is not idempotent: kafkajs winds
   * an idempotent producer's sequence numbers back after a failed send, so if the broker
   * did write it, the next batch of the same size would be taken for its duplicate and
   * dropped. (kafkajs warns about exactly that for an idempotent producer with limited
   * retries.) One request at a time keeps the order either way.
   */
  maxRetries?: number;
}

/**
 * The fabric's producer: the Java client's murmur2 partitioner (so every client agrees on
 * where a key goes), one request in flight (order within a partition holds across retries)
 * and no topic created by a typo. By default idempotent, retrying a send until the broker
 * acknowledges it: broker-side dedup then stops retries from duplicating, and sequence
 * numbers are never reused. Sends go with acks=all (`acks: -1`), which is the caller's to pass.
 */
export function createProducer(kafka: Kafka, opts: ProducerOptions = {}): Producer {
  const bounded = opts.maxRetries !== undefined;
  return kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: !bounded,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // kafkajs spreads these over the client's retry options, and an undefined there would
    // win over the client's value: only what is set goes in.
    retry: {
      // Set either way: a producer inherits the client's retries otherwise.
      retries: opts.maxRetries ?? Number.MAX_SAFE_INTEGER,
      ...(opts.initialRetryTime === undefined ? {} : { initialRetryTime: opts.initialRetryTime }),
      ...(opts.maxRetryTime === undefined ? {} : { maxRetryTime: opts.maxRetryTime }),
    },
  });
}
