// A second reader and invalidator in the home region, beside the sandbox's own: the reader
// on a slot, publication and topic of its own (decoding the same WAL), the invalidator in a
// group of its own. The profile phase runs them under `node --cpu-prof`; keep-up runs
// another build's. Both set them up and take them down alike, here.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RegionEndpoints } from '@fabric/sandbox';
import { Kafka, logLevel } from 'kafkajs';
import { query } from './query.js';
import { repoPath } from './repo-root.js';
import { stopWorkers, type Worker } from './worker-process.js';

/** The side topic and its dead-letter topic; already there is fine. */
export async function createSideTopics(home: RegionEndpoints, topic: string, partitions: number): Promise<void> {
  const admin = new Kafka({ clientId: 'bench-side', brokers: home.kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin
      .createTopics({
        topics: [
          { topic, numPartitions: partitions, replicationFactor: 1 },
          { topic: `${topic}.dlq`, numPartitions: 1, replicationFactor: 1 },
        ],
      })
      .catch(() => {});
  } finally {
    await admin.disconnect();
  }
}

/** The partition count of the region's own topic. */
export async function regionPartitions(home: RegionEndpoints): Promise<number> {
  const admin = new Kafka({ clientId: 'bench-side', brokers: home.kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const [region] = (await admin.fetchTopicMetadata({ topics: [home.kafka.topic] })).topics;
    return region?.partitions.length ?? 1;
  } finally {
    await admin.disconnect();
  }
}

/** A side reader's flags: slot and publication `name`, publishing to `topic`, the demo rules. */
export function sideReaderArgs(home: RegionEndpoints, name: string, topic: string, extra: string[] = []): string[] {
  return [
    ...['--region', home.region, '--kafka', home.kafka.brokers.join(','), '--metrics-port', '0'],
    ...['--postgres', home.postgres.url, '--rules', repoPath('deploy/key-rules.demo.yaml')],
    ...['--topic', topic, '--dlq-topic', `${topic}.dlq`, '--slot', name, '--publication', name],
    ...extra,
  ];
}

/** A side invalidator's flags: group `group` on `topic`, applying to the region's Redis. */
export function sideInvalidatorArgs(home: RegionEndpoints, topic: string, dlqTopic: string, group: string): string[] {
  return [
    ...['--region', home.region, '--kafka', home.kafka.brokers.join(','), '--metrics-port', '0'],
    ...['--redis', home.redis.url, '--topic', topic, '--dlq-topic', dlqTopic, '--group', group],
  ];
}

export const readerScript = (packages = repoPath('packages')): string => path.join(packages, 'cdc-reader/dist/main.js');
export const invalidatorScript = (packages = repoPath('packages')): string =>
  path.join(packages, 'invalidator/dist/main.js');

/** Stops the workers, then drops the side slot and publication. */
export async function stopSidePipeline(home: RegionEndpoints, name: string, workers: Worker[]): Promise<void> {
  await stopWorkers(workers);
  await dropSideSlot(home, name);
}

/** Drops slot and publication `name`; the slot stays in use for a moment after its reader exited. */
export async function dropSideSlot(home: RegionEndpoints, name: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const dropped = await query(
      home.postgres.url,
      `select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = '${name}'`,
    ).then(
      () => true,
      () => false,
    );
    if (dropped) break;
    await sleep(500);
  }
  await query(home.postgres.url, `drop publication if exists ${name}`).catch(() => {});
}
