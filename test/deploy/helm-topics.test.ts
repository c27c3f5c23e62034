import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ROOT } from './compose-file.js';
import { CHART, type Container, ensureHelm, find, helm, type Manifest, podSpec, render, valuesFile } from './helm.js';

const initContainer = (manifests: Manifest[], region: string): Container | undefined =>
  podSpec(find(manifests, 'Deployment', `fabric-${region}-reader`)).initContainers?.[0];

describe('Helm chart topic creation', () => {
  let binary: string;
  beforeAll(() => {
    binary = ensureHelm();
  }, 200_000);

  it("creates the region's topics before the reader starts, with the reader's Kafka access and the values' settings", () => {
    const manifests = render(binary, 'eu-west', [
      ...['--set', 'kafka.topics.partitions=6', '--set', 'kafka.topics.replicationFactor=5'],
      ...['--set', 'kafka.topics.minInsyncReplicas=3', '--set', 'kafka.tls.caSecret=brokers-ca'],
      ...['--set', 'kafka.sasl.mechanism=scram-sha-512', '--set', 'kafka.sasl.username=fabric'],
      ...['--set', 'kafka.sasl.password=pw'],
    ]);
    const init = initContainer(manifests, 'eu-west')!;
    const reader = podSpec(find(manifests, 'Deployment', 'fabric-eu-west-reader')).containers[0] as Container;
    expect(init.name).toBe('create-topics');
    expect(init.args.slice(0, 2)).toEqual(['node', '/app/deploy/chart-scripts/create-topics.mjs']);
    expect(init.args).toEqual(expect.arrayContaining(reader.args.filter((a) => a.startsWith('--kafka'))));
    expect(init.args).toEqual(
      expect.arrayContaining([
        '--topic=fabric.inval.eu-west',
        '--partitions=6',
        '--dead-letter-partitions=1',
        '--replication-factor=5',
        '--min-insync-replicas=3',
      ]),
    );
    expect(init.volumeMounts).toEqual(
      expect.arrayContaining(reader.volumeMounts!.filter((m) => m.name.startsWith('kafka'))),
    );
    // The script mounted is the chart's own file.
    const scripts = find(manifests, 'ConfigMap', 'fabric-eu-west-chart-scripts').data!;
    expect(scripts['create-topics.mjs']).toBe(readFileSync(path.join(CHART, 'files/create-topics.mjs'), 'utf8'));
  });

  it('defaults to three replicas and min.insync.replicas 2, and creates nothing when turned off', () => {
    const init = initContainer(render(binary, 'eu-west'), 'eu-west')!;
    expect(init.args).toEqual(expect.arrayContaining(['--replication-factor=3', '--min-insync-replicas=2']));
    const off = render(binary, 'eu-west', ['--set', 'kafka.topics.create=false']);
    expect(initContainer(off, 'eu-west')).toBeUndefined();
    expect(find(off, 'ConfigMap', 'fabric-eu-west-chart-scripts').data).not.toHaveProperty('create-topics.mjs');
  });

  it('refuses min.insync.replicas above the replication factor at install time', () => {
    const run = helm(binary, [
      ...['template', 'fabric-eu-west', CHART, '-f', valuesFile('eu-west')],
      ...['--set', 'kafka.topics.replicationFactor=2', '--set', 'kafka.topics.minInsyncReplicas=3'],
    ]);
    expect(run.status).not.toBe(0);
    expect(run.output).toContain('kafka.topics.minInsyncReplicas: 3 is more than kafka.topics.replicationFactor 2');
  });

  it('lets the compose script take a replication factor and min.insync.replicas too', () => {
    // kafka-topics.sh is the broker distribution's; a stand-in records what it was asked.
    const home = mkdtempSync(path.join(ROOT, '.fabric/kafka-home-'));
    try {
      mkdirSync(path.join(home, 'bin'));
      const stub = path.join(home, 'bin/kafka-topics.sh');
      writeFileSync(stub, `#!/bin/sh\necho "$*" >> "${home}/calls"\n`);
      chmodSync(stub, 0o755);
      const script = path.join(ROOT, 'deploy/kafka/create-topics.sh');
      const run = (...args: string[]) =>
        spawnSync('sh', [script, 'broker:9092', 'eu-west', ...args], {
          encoding: 'utf8',
          env: { ...process.env, KAFKA_HOME: home },
        });
      expect(run('3').status).toBe(0);
      expect(run('6', '3', '2').status).toBe(0);
      const refused = run('3', '1', '2');
      expect(refused.status).toBe(2);
      expect(refused.stderr).toContain('MIN_INSYNC_REPLICAS 2 is more than REPLICATION_FACTOR 1');
      const calls = readFileSync(path.join(home, 'calls'), 'utf8').trim().split('\n');
      expect(calls.filter((c) => c.includes('--create'))).toEqual([
        '--bootstrap-server broker:9092 --create --if-not-exists --topic fabric.inval.eu-west --partitions 3 --replication-factor 1 --config min.insync.replicas=1',
        '--bootstrap-server broker:9092 --create --if-not-exists --topic fabric.inval.eu-west.dlq --partitions 1 --replication-factor 1 --config min.insync.replicas=1',
        '--bootstrap-server broker:9092 --create --if-not-exists --topic fabric.inval.eu-west --partitions 6 --replication-factor 3 --config min.insync.replicas=2',
        '--bootstrap-server broker:9092 --create --if-not-exists --topic fabric.inval.eu-west.dlq --partitions 1 --replication-factor 3 --config min.insync.replicas=2',
      ]);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

// The init container's script, run as the chart runs it, against the sandbox's brokers.
describe('Helm chart topic creation against a real broker', () => {
  const region = inject('endpoints').regions.find((r) => r.region === 'eu-west')!;
  const topic = `helm.topics.${Date.now()}`;
  let binary: string;
  let dir: string;
  let admin: ReturnType<Kafka['admin']>;

  beforeAll(async () => {
    binary = ensureHelm();
    // Beside the repository's node_modules, as the chart mounts it under /app in the image,
    // so @fabric/runtime and @fabric/contracts resolve the same way.
    mkdirSync(path.join(ROOT, '.fabric'), { recursive: true });
    dir = mkdtempSync(path.join(ROOT, '.fabric/chart-scripts-'));
    admin = new Kafka({
      clientId: 'helm-topics-test',
      brokers: region.kafka.brokers,
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
  }, 200_000);
  afterAll(async () => {
    await admin?.deleteTopics({ topics: [topic, `${topic}.dlq`, `${topic}.dlq.replayed`] }).catch(() => {});
    await admin?.disconnect();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Renders the chart with these values and runs its init container's command, pointed at the sandbox. */
  const runInit = (extra: string[]) => {
    const manifests = render(binary, 'eu-west', ['--set', `kafka.topic=${topic}`, ...extra]);
    const script = find(manifests, 'ConfigMap', 'fabric-eu-west-chart-scripts').data!['create-topics.mjs']!;
    writeFileSync(path.join(dir, 'create-topics.mjs'), script);
    const [node, mounted, ...args] = initContainer(manifests, 'eu-west')!.args;
    expect([node, mounted]).toEqual(['node', '/app/deploy/chart-scripts/create-topics.mjs']);
    const here = args.map((a) => (a.startsWith('--kafka=') ? `--kafka=${region.kafka.brokers.join(',')}` : a));
    const run = spawnSync(process.execPath, [path.join(dir, 'create-topics.mjs'), ...here], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, FABRIC_LOG_LEVEL: 'info' },
    });
    return { status: run.status, output: `${run.stdout}\n${run.stderr}` };
  };

  const describeTopics = async () => {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic, `${topic}.dlq`, `${topic}.dlq.replayed`] });
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((t) => ({
        type: ConfigResourceTypes.TOPIC,
        name: t.name,
        configNames: ['min.insync.replicas', 'cleanup.policy'],
      })),
    });
    return Object.fromEntries(
      topics.map((t) => {
        const entries = configs.resources.find((r) => r.resourceName === t.name)!.configEntries;
        const entry = (name: string) => entries.find((c) => c.configName === name)!;
        return [
          t.name,
          {
            partitions: t.partitions.length,
            replicationFactor: t.partitions[0]!.replicas.length,
            minInsyncReplicas: entry('min.insync.replicas').configValue,
            // Set on the topic by the request, not inherited from the broker.
            minInsyncFromTopic: entry('min.insync.replicas').isDefault === false,
            cleanupPolicy: entry('cleanup.policy').configValue,
          },
        ];
      }),
    );
  };

  it('tells the operator which values to change when the cluster cannot hold the replication factor', () => {
    // The sandbox's brokers are one per region: three replicas cannot be placed.
    const run = runInit([]);
    expect(run.status, run.output).toBe(2);
    expect(run.output).toMatch(
      /create-topics: kafka refused to create .*replication factor 3, min\.insync\.replicas 2/,
    );
    expect(run.output).toContain('set kafka.topics.replicationFactor and kafka.topics.minInsyncReplicas');
  });

  it('creates the topic, its dead-letter topic and the replay ledger as the values say, once', async () => {
    const single = [
      ...['--set', 'kafka.topics.replicationFactor=1', '--set', 'kafka.topics.minInsyncReplicas=1'],
      ...['--set', 'kafka.topics.partitions=4', '--set', 'kafka.topics.deadLetterPartitions=2'],
    ];
    const first = runInit(single);
    expect(first.status, first.output).toBe(0);
    expect(first.output.match(/"msg":"created"/g)).toHaveLength(3);
    const made = { replicationFactor: 1, minInsyncReplicas: '1', minInsyncFromTopic: true };
    expect(await describeTopics()).toEqual({
      [topic]: { partitions: 4, cleanupPolicy: 'delete', ...made },
      [`${topic}.dlq`]: { partitions: 2, cleanupPolicy: 'delete', ...made },
      [`${topic}.dlq.replayed`]: { partitions: 1, cleanupPolicy: 'compact', ...made },
    });

    // Again, as after a reader restart: nothing to create, nothing changed.
    const again = runInit(single);
    expect(again.status, again.output).toBe(0);
    expect(again.output).not.toContain('"msg":"created"');
    expect(again.output.match(/"msg":"exists"/g)).toHaveLength(3);

    // Asking for more than a topic made elsewhere has: a warning naming what is short, and the reader starts.
    const more = runInit(['--set', 'kafka.topics.partitions=8']);
    expect(more.status, more.output).toBe(0);
    expect(more.output).toContain('exists with less than the values ask: partitions 4 < 8');
    expect(more.output).toContain('replication factor 1 < 3');
    expect((await describeTopics())[topic]!.partitions).toBe(4);
  });
});
