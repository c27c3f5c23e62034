import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync } from 'node:fs';
import path from 'node:path';
import {
  create,
  type InvalidationEvent,
  InvalidationEventSchema,
  Operation,
  timestampFromMs,
  toBinary,
} from '@fabric/proto';
import type { RegionEndpoints } from '@fabric/sandbox';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { inject } from 'vitest';
import { eventually } from '../support.js';

const INVALIDATOR = path.resolve('packages/invalidator/dist/main.js');

/**
 * A real invalidator process of its own for one test: own topics and consumer group, any
 * Redis, a metrics port for /healthz. Tests share the sandbox's brokers but not events.
 */
export interface InvalidatorUnderTest {
  topic: string;
  dlqTopic: string;
  groupId: string;
  metricsPort: number;
  start(): Promise<void>;
  stop(): Promise<number | null>;
  kill(): Promise<void>;
  /** Sends a signal without waiting: SIGSTOP freezes the process where it is, SIGCONT resumes it. */
  signal(signal: NodeJS.Signals): void;
  health(): Promise<Record<string, unknown>>;
  metrics(): Promise<string>;
  dispose(): Promise<void>;
}

let nextPort = 28650;

export async function invalidatorFor(
  region: RegionEndpoints,
  opts: {
    redisUrl?: string;
    redisArgs?: string[];
    topic?: string;
    name?: string;
    extraArgs?: string[];
    /** A test file's own port range; default: the next of the shared range. */
    metricsPort?: number;
    /** Another member of an existing invalidator's group. */
    groupId?: string;
  } = {},
): Promise<InvalidatorUnderTest> {
  const id = `${opts.name ?? 'inv'}_${randomBytes(3).toString('hex')}`;
  const topic = opts.topic ?? `${region.kafka.topic}.${id}`;
  const dlqTopic = `${topic}.dlq.${id}`;
  const groupId = opts.groupId ?? `test-invalidator-${id}`;
  const metricsPort = opts.metricsPort ?? nextPort++;
  const kafka = new Kafka({ brokers: region.kafka.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const existing = new Set(await admin.listTopics());
  await admin.createTopics({
    waitForLeaders: true,
    topics: [...(existing.has(topic) ? [] : [{ topic, numPartitions: 3 }]), { topic: dlqTopic, numPartitions: 1 }],
  });
  await admin.disconnect();
  const log = openSync(path.join(inject('endpoints').stateDir, region.region, 'logs', `invalidator-${id}.log`), 'a');
  const args = [
    INVALIDATOR,
    '--region',
    region.region,
    '--kafka',
    region.kafka.brokers.join(','),
    ...(opts.redisArgs ?? ['--redis', opts.redisUrl ?? region.redis.url]),
    '--topic',
    topic,
    '--dlq-topic',
    dlqTopic,
    '--group',
    groupId,
    '--metrics-port',
    String(metricsPort),
    ...(opts.extraArgs ?? []),
  ];
  let child: ChildProcess | undefined;
  const exited = () =>
    new Promise<number | null>((resolve) =>
      child!.exitCode !== null || child!.signalCode !== null
        ? resolve(child!.exitCode)
        : child!.once('exit', (code) => resolve(code)),
    );
  const url = (p: string) => `http://127.0.0.1:${metricsPort}${p}`;

  const self: InvalidatorUnderTest = {
    topic,
    dlqTopic,
    groupId,
    metricsPort,
    async start() {
      child = spawn(process.execPath, args, {
        stdio: ['ignore', log, log],
        env: { ...process.env, FABRIC_LOG_LEVEL: 'info' },
      });
      // Ready once it holds partitions: an event produced now is consumed, not raced.
      await eventually(
        `invalidator ${id} in its group`,
        async () => {
          if (child!.exitCode !== null)
            throw new Error(`invalidator exited with ${child!.exitCode}; see logs/invalidator-${id}.log`);
          const a = kafka.admin();
          await a.connect();
          try {
            const [group] = (await a.describeGroups([groupId])).groups;
            return group?.state === 'Stable' && group.members.length > 0 ? true : undefined;
          } finally {
            await a.disconnect();
          }
        },
        30_000,
      );
    },
    async stop() {
      child?.kill('SIGTERM');
      return exited();
    },
    async kill() {
      child?.kill('SIGKILL');
      await exited();
    },
    signal(signal) {
      child?.kill(signal);
    },
    async health() {
      return (await (await fetch(url('/healthz'))).json()) as Record<string, unknown>;
    },
    async metrics() {
      return (await fetch(url('/metrics'))).text();
    },
    async dispose() {
      if (child && child.exitCode === null && child.signalCode === null) await self.kill();
    },
  };
  return self;
}

let seq = 0;
export function invalidation(fields: Partial<InvalidationEvent> & { keys?: string[] }): InvalidationEvent {
  return create(InvalidationEventSchema, {
    id: `test:${process.pid}:${seq++}`,
    region: 'test',
    operation: Operation.UPDATE,
    primaryCommitTime: timestampFromMs(Date.now()),
    ...fields,
  });
}

export async function producerFor(
  region: RegionEndpoints,
): Promise<Producer & { publish(topic: string, items: Array<InvalidationEvent | Buffer>): Promise<void> }> {
  const producer = new Kafka({ brokers: region.kafka.brokers, logLevel: logLevel.NOTHING }).producer({
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  return Object.assign(producer, {
    async publish(topic: string, items: Array<InvalidationEvent | Buffer>) {
      await producer.send({
        topic,
        acks: -1,
        messages: items.map((item) =>
          Buffer.isBuffer(item)
            ? { key: 'poison', value: item }
            : { key: item.keys[0] ?? item.id, value: Buffer.from(toBinary(InvalidationEventSchema, item)) },
        ),
      });
    },
  });
}

/** Committed offsets of the group minus end offsets, summed over partitions. */
export async function groupLag(region: RegionEndpoints, groupId: string, topic: string): Promise<number> {
  const admin = new Kafka({ brokers: region.kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return ends.reduce((sum, end) => {
      const c = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
      return sum + Number(end.high) - Math.max(0, Number(c));
    }, 0);
  } finally {
    await admin.disconnect();
  }
}
