import { randomBytes } from 'node:crypto';
import net from 'node:net';
import {
  type ClientOptions,
  ControlPlane,
  ControlPlaneClient,
  type ControlPlaneConfig,
  hashToken,
  validateControlPlaneConfig,
} from '@fabric/control-plane';
import type { RegionEndpoints } from '@fabric/sandbox';
import { Client, credentials, Metadata, type ServiceError, type status } from '@grpc/grpc-js';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { inject } from 'vitest';

/** Tokens every test control plane accepts. */
export const TOKENS = { read: 'test-read-token', admin: 'test-admin-token' } as const;

export interface TestTopics {
  topic: string;
  deadLetterTopic: string;
  /** The "invalidator group" whose commits define Kafka lag, of this test alone. */
  consumerGroup: string;
}

/**
 * Topics of this test's own in every region, named after the sandbox's, so assertions on
 * their contents never see another test's events.
 */
export async function createTopics(regions: RegionEndpoints[], name: string): Promise<Map<string, TestTopics>> {
  const id = `${name}-${randomBytes(3).toString('hex')}`;
  const out = new Map<string, TestTopics>();
  for (const r of regions) {
    const topics = {
      topic: `${r.kafka.topic}.${id}`,
      deadLetterTopic: `${r.kafka.topic}.${id}.dlq`,
      consumerGroup: `fabric-invalidator-${r.region}-${id}`,
    };
    const admin = new Kafka({ brokers: r.kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          { topic: topics.topic, numPartitions: 3 },
          { topic: topics.deadLetterTopic, numPartitions: 1 },
        ],
      });
    } finally {
      await admin.disconnect();
    }
    out.set(r.region, topics);
  }
  return out;
}

/** A port nothing listens on: where a dead worker's status would be. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface ConfigOptions {
  port: number;
  topics?: Map<string, TestTopics>;
  /** Worker status URLs by region; default: ports nothing listens on. */
  statusUrls?: Map<string, { reader?: string; invalidator?: string }>;
  /** Extra raw region entries, e.g. one that cannot be reached. */
  extraRegions?: Array<Record<string, unknown>>;
  tls?: { cert: string; key: string; clientCa?: string };
  /** The configuration's "health" thresholds. */
  health?: Record<string, unknown>;
}

/** A control plane configuration for the test sandbox, checked like the real binary checks it. */
export async function testConfig(opts: ConfigOptions): Promise<ControlPlaneConfig> {
  const endpoints = inject('endpoints');
  const dead = `http://127.0.0.1:${await closedPort()}/healthz`;
  const regions = endpoints.regions.map((r) => ({
    name: r.region,
    home: r.home,
    postgresUrl: r.postgres.url,
    kafkaBrokers: r.kafka.brokers,
    ...(opts.topics?.get(r.region) ?? {}),
    readerStatusUrl: opts.statusUrls?.get(r.region)?.reader ?? dead,
    invalidatorStatusUrl: opts.statusUrls?.get(r.region)?.invalidator ?? dead,
  }));
  return validateControlPlaneConfig(
    {
      listen: { host: '127.0.0.1', port: opts.port },
      metrics: { host: '127.0.0.1', port: 0 },
      probeTimeoutMs: 1_500,
      tokens: [
        { name: 'test-read', scopes: ['read'], sha256: hashToken(TOKENS.read) },
        { name: 'test-admin', scopes: ['read', 'admin'], sha256: hashToken(TOKENS.admin) },
      ],
      regions: [...regions, ...(opts.extraRegions ?? [])],
      replication: endpoints.replication,
      tls: opts.tls,
      health: opts.health,
    },
    process.cwd(),
  );
}

export interface RunningControlPlane {
  controlPlane: ControlPlane;
  address: string;
  client(token?: string, tls?: ClientOptions['tls']): ControlPlaneClient;
  stop(): Promise<void>;
}

/** Starts a real control plane in this process; stop() closes its clients too. */
export async function startTestControlPlane(config: ControlPlaneConfig): Promise<RunningControlPlane> {
  const logger = pino({ level: process.env.FABRIC_LOG_LEVEL ?? 'warn' }, pino.destination(2));
  const controlPlane = await ControlPlane.start(config, logger);
  const address = `127.0.0.1:${controlPlane.port}`;
  const clients: ControlPlaneClient[] = [];
  return {
    controlPlane,
    address,
    client(token, tls) {
      const c = new ControlPlaneClient({ address, token, tls });
      clients.push(c);
      return c;
    },
    async stop() {
      clients.forEach((c) => c.close());
      await controlPlane.stop();
    },
  };
}

/** A raw gRPC call with hand-made bytes, as a client without our generated code would make it. */
export function rawUnary(
  address: string,
  path: string,
  request: Uint8Array,
  metadata = new Metadata(),
): Promise<Buffer> {
  const client = new Client(address, credentials.createInsecure());
  return new Promise<Buffer>((resolve, reject) =>
    client.makeUnaryRequest(
      path,
      (b: Uint8Array) => Buffer.from(b),
      (b: Buffer) => b,
      request,
      metadata,
      (err, res) => (err ? reject(err) : resolve(res!)),
    ),
  ).finally(() => client.close());
}

/** The status code of a failed call, failing the test when the call succeeds. */
export async function codeOf(call: Promise<unknown>): Promise<{ code: status; details: string }> {
  try {
    await call;
  } catch (err) {
    const e = err as Partial<ServiceError>;
    return { code: e.code!, details: e.details ?? '' };
  }
  throw new Error('the call succeeded');
}

export interface ReadRecord {
  partition: number;
  offset: bigint;
  key: string;
  value: Buffer;
}

/** Reads a topic from the beginning until `count` records arrived (or fails after timeoutMs). */
export async function readRecords(
  region: RegionEndpoints,
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<ReadRecord[]> {
  const kafka = new Kafka({ brokers: region.kafka.brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `test-cp-read-${randomBytes(4).toString('hex')}` });
  await consumer.connect();
  const records: ReadRecord[] = [];
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out reading ${topic}: ${records.length} of ${count} records`)),
        timeoutMs,
      );
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          records.push({
            partition,
            offset: BigInt(message.offset),
            key: message.key?.toString() ?? '',
            value: message.value!,
          });
          if (records.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return records.sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset));
}

/** High watermarks of a topic's partitions, in partition order. */
export async function topicEnds(region: RegionEndpoints, topic: string): Promise<bigint[]> {
  const admin = new Kafka({ brokers: region.kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition).map((o) => BigInt(o.high));
  } finally {
    await admin.disconnect();
  }
}
