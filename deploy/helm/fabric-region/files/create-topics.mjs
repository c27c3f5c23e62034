// Creates a region's topics if missing: the invalidation topic, its dead-letter topic and
// the control plane's replay ledger beside it, with the replication factor and
// min.insync.replicas the chart's values give. Topics that exist are left alone: a lower
// replication factor, min.insync.replicas or partition count is a warning, since fixing it
// is a reassignment for the operator to plan. Runs as the reader's init container, from the
// fabric image (the chart mounts it under /app, so the fabric's own packages resolve), with
// the reader's Kafka flags, so it reaches the brokers exactly as the reader will.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { deadLetterTopic, replayLedgerTopic } from '@fabric/contracts';
import {
  ConfigError,
  createKafka,
  createLogger,
  explainKafkaError,
  hostPorts,
  integerFlag,
  KAFKA_SECURITY_HELP,
  KAFKA_SECURITY_OPTIONS,
  KafkaAccessError,
  parseKafkaSecurity,
  requiredFlag,
  runMain,
} from '@fabric/runtime';

const HELP = `create-topics: the region's invalidation topic, <topic>.dlq and <topic>.dlq.replayed,
if missing.

  --kafka HOST:PORT,...         the region's brokers
  --topic NAME                  the invalidation topic
  --partitions N                its partitions (default 3)
  --dead-letter-partitions N    the dead-letter topic's (default 1)
  --replication-factor N        every topic's (default 3)
  --min-insync-replicas N       every topic's min.insync.replicas (default 2)
${KAFKA_SECURITY_HELP}`;

/** The broker refused the topics as asked: the values to change, not a stack. */
class TopicRefusedError extends Error {
  name = 'TopicRefusedError';
}

function parse(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      help: { type: 'boolean' },
      kafka: { type: 'string' },
      topic: { type: 'string' },
      partitions: { type: 'string' },
      'dead-letter-partitions': { type: 'string' },
      'replication-factor': { type: 'string' },
      'min-insync-replicas': { type: 'string' },
      ...KAFKA_SECURITY_OPTIONS,
    },
  });
  if (values.help) return undefined;
  const brokers = hostPorts('--kafka', requiredFlag('--kafka', values.kafka)).map((n) => `${n.host}:${n.port}`);
  const topic = requiredFlag('--topic', values.topic);
  const replicationFactor = integerFlag('--replication-factor', values['replication-factor'] ?? '3', 1, 32_767);
  const minInsyncReplicas = integerFlag('--min-insync-replicas', values['min-insync-replicas'] ?? '2', 1, 32_767);
  if (minInsyncReplicas > replicationFactor)
    throw new ConfigError(
      '--min-insync-replicas',
      `${minInsyncReplicas} is more than --replication-factor ${replicationFactor}: no write with acks=all could succeed`,
    );
  const dlq = deadLetterTopic(topic);
  const wanted = [
    { topic, numPartitions: integerFlag('--partitions', values.partitions ?? '3', 1, 100_000) },
    {
      topic: dlq,
      numPartitions: integerFlag('--dead-letter-partitions', values['dead-letter-partitions'] ?? '1', 1, 100_000),
    },
    // As the control plane creates it when missing: one partition, compacted.
    { topic: replayLedgerTopic(dlq), numPartitions: 1, compacted: true },
  ];
  const security = parseKafkaSecurity(values, process.env, (file) => readFileSync(file, 'utf8'));
  return { brokers, security, replicationFactor, minInsyncReplicas, wanted };
}

async function main() {
  const config = parse(process.argv.slice(2));
  if (!config) {
    process.stdout.write(HELP);
    return 0;
  }
  const { brokers, security, replicationFactor, minInsyncReplicas, wanted } = config;
  const logger = createLogger('create-topics');
  const kafka = createKafka({ clientId: 'fabric-create-topics', brokers, logger, security, retry: { retries: 8 } });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) {
      await admin
        .createTopics({
          waitForLeaders: true,
          topics: missing.map((t) => ({
            topic: t.topic,
            numPartitions: t.numPartitions,
            replicationFactor,
            configEntries: [
              { name: 'min.insync.replicas', value: String(minInsyncReplicas) },
              ...(t.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : []),
            ],
          })),
        })
        .catch((err) => {
          const refusal = err?.errors?.find?.((e) => e?.type && e.type !== 'TOPIC_ALREADY_EXISTS');
          if (refusal)
            throw new TopicRefusedError(
              `kafka refused to create ${refusal.topic ?? 'a topic'}: ${refusal.message} ` +
                `(replication factor ${replicationFactor}, min.insync.replicas ${minInsyncReplicas}): set ` +
                'kafka.topics.replicationFactor and kafka.topics.minInsyncReplicas to what the cluster can hold, ' +
                'or create the topics yourself and set kafka.topics.create=false',
            );
          throw explainKafkaError(err, security);
        });
      for (const t of missing)
        logger.info({ topic: t.topic, partitions: t.numPartitions, replicationFactor, minInsyncReplicas }, 'created');
    }
    const present = wanted.filter((t) => existing.has(t.topic));
    if (present.length > 0) await checkExisting(admin, present, { replicationFactor, minInsyncReplicas }, logger);
    return 0;
  } catch (err) {
    if (err instanceof TopicRefusedError || err instanceof ConfigError) throw err;
    throw explainKafkaError(err, security);
  } finally {
    await admin.disconnect();
  }
}

/** Says where a topic made elsewhere holds less than the values ask; never changes it. */
async function checkExisting(admin, topics, wanted, logger) {
  const { topics: metadata } = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    // 2 is TOPIC in Kafka's ConfigResource types.
    resources: topics.map((t) => ({ type: 2, name: t.topic, configNames: ['min.insync.replicas'] })),
  });
  for (const t of topics) {
    const partitions = metadata.find((m) => m.name === t.topic)?.partitions ?? [];
    const replicationFactor = Math.min(...partitions.map((p) => p.replicas.length));
    const entry = configs.resources
      .find((r) => r.resourceName === t.topic)
      ?.configEntries.find((c) => c.configName === 'min.insync.replicas');
    const minInsyncReplicas = Number(entry?.configValue ?? 1);
    const found = { topic: t.topic, partitions: partitions.length, replicationFactor, minInsyncReplicas };
    const short = [
      partitions.length < t.numPartitions && `partitions ${partitions.length} < ${t.numPartitions}`,
      replicationFactor < wanted.replicationFactor &&
        `replication factor ${replicationFactor} < ${wanted.replicationFactor}`,
      minInsyncReplicas < wanted.minInsyncReplicas &&
        `min.insync.replicas ${minInsyncReplicas} < ${wanted.minInsyncReplicas}`,
    ].filter(Boolean);
    if (short.length > 0)
      logger.warn(found, `exists with less than the values ask: ${short.join(', ')}; left as it is`);
    else logger.info(found, 'exists');
  }
}

void runMain('create-topics', main, { knownErrors: [TopicRefusedError, KafkaAccessError] });
