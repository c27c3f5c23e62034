#!/usr/bin/env node
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { APPLIED_OFFSETS_KEY, resyncId } from '@fabric/contracts';
import {
  ConfigError,
  connectRedis,
  createKafka,
  createLogger,
  createProducer,
  describeKafkaSecurity,
  describeRedisTarget,
  explainKafkaError,
  KafkaAccessError,
  onShutdownSignal,
  RecoveringProducer,
  routeProcessWarnings,
  runMain,
  startMetricsServer,
} from '@fabric/runtime';
import type { Kafka } from 'kafkajs';
import { ApplyRounds } from './apply-rounds.js';
import { BatchProcessor } from './batch-processor.js';
import { BusPublisher } from './bus-publisher.js';
import { INVALIDATOR_HELP, parseInvalidatorConfig } from './config.js';
import { RegionConsumer } from './consumer.js';
import { deadLetterPublisher } from './dead-letters.js';
import { FreshnessTracker } from './freshness.js';
import { GroupFreshness } from './group-freshness.js';
import { InvalidatorHealth } from './health.js';
import { InvalidatorMetrics } from './metrics.js';
import { RedisApplier } from './redis-applier.js';
import { redisErrorHint } from './redis-errors.js';
import { ResyncRunner } from './resync-runner.js';
import { ResyncStore } from './resync-store.js';
import { invalidatorStatus } from './status.js';

async function main(): Promise<number> {
  const config = parseInvalidatorConfig(process.argv.slice(2));
  if (!config) {
    process.stdout.write(INVALIDATOR_HELP);
    return 0;
  }
  const logger = createLogger('invalidator', { region: config.region });
  routeProcessWarnings(logger);
  const signalled = onShutdownSignal(logger);
  const freshness = new FreshnessTracker();
  const metrics = new InvalidatorMetrics(config.region, freshness);
  const health = new InvalidatorHealth({ graceMs: config.healthGraceMs });

  const redis = connectRedis(config.redis, `fabric-invalidator-${config.region}`);
  let lastHint: string | undefined;
  redis.on('error', (err: Error) => {
    const hint = redisErrorHint(err);
    // Said once per cause: reconnects repeat the same error every couple of seconds.
    if (hint && hint !== lastHint) logger.error({ err: err.message }, hint);
    else if (!hint) logger.debug({ err: err.message }, 'redis connection error');
    lastHint = hint;
  });
  redis.on('ready', () => {
    metrics.redisUp.set(1);
    health.redisReady(true);
    logger.info('redis ready');
  });
  redis.on('close', () => {
    metrics.redisUp.set(0);
    health.redisReady(false);
  });
  await waitForRedis(redis, 10_000, logger.child({ redis: describeRedisTarget(config.redis) }));

  const kafka = createKafka({
    clientId: `fabric-invalidator-${config.region}`,
    brokers: config.kafkaBrokers,
    security: config.kafkaSecurity,
    logger,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5_000 },
  });
  // A broker that wants TLS or SASL only hangs up: say which flag is missing, not "Closed connection".
  const explained = (err: unknown) => {
    throw explainKafkaError(err, config.kafkaSecurity);
  };
  const partitions = await topicPartitions(kafka, config.topic, config.deadLetterTopic).catch(explained);
  // Dead letters must reach the DLQ before their offsets move: a send waits for Kafka.
  // Recreated when the broker refuses its sequence numbers, instead of failing every batch after.
  const producer = new RecoveringProducer({
    create: () => createProducer(kafka, { initialRetryTime: 200, maxRetryTime: 5_000 }),
    logger,
  });
  await producer.connect().catch(explained);

  const applier = new RedisApplier(redis, logger, {
    pageSize: config.expandPageSize,
    versionTtlMs: config.versionTtlSeconds * 1000,
    fillTombstoneMs: config.fillTombstoneMs,
  });
  const resyncs = new ResyncRunner({
    store: new ResyncStore(redis, config.topic),
    apply: (events) => applier.apply(events),
    masters: () => applier.masters(),
    pageSize: config.resyncPageSize,
    logger,
    onStarted: (job) => metrics.resyncStarted(job.reason),
    onFinished: (job, keys, seconds) => metrics.resyncFinished(job.reason, keys, seconds),
  });
  await resyncs.load().catch((err: unknown) => logger.warn({ err }, 'could not read the last resync from Redis'));
  metrics.resyncing = () => resyncs.continuity.state === 'resyncing';
  const bus = new BusPublisher({
    redis,
    region: config.region,
    topic: config.topic,
    partitions,
    member: `${hostname()}:${process.pid}`,
    logger,
    registry: metrics.registry,
  });
  // The partitions of one fetch share a pipeline (a resync's pages go on their own).
  const rounds = new ApplyRounds((events) => applier.apply(events), config.maxBatch);
  const processor = new BatchProcessor({
    apply: (events) => rounds.apply(events),
    resync: async (job, control) => {
      const outcome = await resyncs.run(job, control);
      if (outcome.status === 'done') bus.resynced();
      return outcome;
    },
    publishDeadLetters: deadLetterPublisher(
      { send: (record) => producer.send((p) => p.send(record)) },
      config.region,
      config.deadLetterTopic,
    ),
    policy: config.retry,
    sleep: (ms) => sleep(ms),
    observer: {
      applyResult: (r, s) => metrics.applyResult(r, s),
      applied: (e, p) => {
        metrics.applied(e, p);
        health.applied();
        bus.applied(e, p);
      },
      chunkDone: (p) => bus.chunkDone(p),
      retrying: (n, attempt, delayMs, err) => {
        metrics.retrying(n, attempt, delayMs, err);
        health.applyRetrying();
        // The processor logs each block and recovery once; a line per retry would flood an outage.
        logger.debug(
          { events: n, attempt, delayMs, err: err instanceof Error ? err.message : String(err) },
          'retrying events after a Redis failure',
        );
      },
      blocked: (p, reason) => metrics.blocked(p, reason),
      unblocked: (p, ms) => metrics.unblocked(p, ms),
      deadLettered: (d) => {
        metrics.deadLettered(d);
        logger.warn(
          {
            reason: d.reason,
            attempts: d.attempts,
            eventId: d.event?.id,
            partition: d.record.partition,
            offset: d.record.offset,
          },
          'event dead-lettered',
        );
      },
      heartbeatDropped: (e, err) => {
        metrics.heartbeatDropped();
        logger.debug({ eventId: e.id, err: err instanceof Error ? err.message : String(err) }, 'heartbeat not applied');
      },
    },
    logger,
  });
  const group = new GroupFreshness({
    redis,
    topic: config.topic,
    partitions,
    tracker: freshness,
    registry: metrics.registry,
    logger,
  });
  const consumer = new RegionConsumer({
    kafka,
    topic: config.topic,
    groupId: config.groupId,
    maxBatch: config.maxBatch,
    commitIntervalMs: config.commitIntervalMs,
    fetchLingerMs: config.fetchLingerMs,
    processor,
    freshness,
    logger,
    onBatch: (n) => metrics.batch(n),
    onState: (state) => health.consumerState(state),
    // Records the group can no longer read were never applied: the region resyncs before going on.
    onGap: !config.continuity
      ? undefined
      : (gap, detail, control) =>
          processor.recover(
            {
              id: resyncId(config.region, `${config.topic}:offsets:${gap.seededAt}`),
              reason: gap.kind,
              detail,
              recovery: { keys: [], tags: [], versions: [], patterns: [] },
            },
            control,
          ),
    recordedOffsets: async () => {
      const fields = await redis.hgetall(APPLIED_OFFSETS_KEY);
      const prefix = `${config.topic}:`;
      return new Map(
        Object.entries(fields)
          .filter(([field]) => field.startsWith(prefix))
          .map(([field, offset]) => [Number(field.slice(prefix.length)), BigInt(offset)]),
      );
    },
    recordedCommitTimes: () => group.records(),
    onCommitted: (offsets) =>
      void redis
        .hset(APPLIED_OFFSETS_KEY, Object.fromEntries(offsets.map(([p, o]) => [`${config.topic}:${p}`, o])))
        .catch((err: unknown) => logger.debug({ err }, 'could not record applied offsets in Redis')),
  });
  const server = await startMetricsServer(metrics.registry, {
    host: config.metricsHost,
    port: config.metricsPort,
    health: () =>
      invalidatorStatus({
        region: config.region,
        groupId: config.groupId,
        topic: config.topic,
        redis,
        metrics,
        freshness,
        group,
        health,
        assigned: () => consumer.assigned,
        continuity: () => resyncs.continuity,
      }),
  });
  group.start();
  await bus.start();
  await consumer.start(partitions);
  logger.info(
    {
      metricsPort: server.port,
      topic: config.topic,
      group: config.groupId,
      partitions,
      redis: config.redis.mode,
      kafka: describeKafkaSecurity(config.kafkaSecurity),
    },
    'invalidator started',
  );

  const outcome = await Promise.race([
    signalled.then((signal) => ({ signal })),
    consumer.failure.then((err) => ({ err })),
  ]);
  if ('err' in outcome)
    logger.error({ err: outcome.err }, 'kafka consumer gave up; exiting so a restart rejoins the group');
  else logger.info(outcome, 'stopping');
  await consumer.stop().catch((err: unknown) => logger.warn({ err }, 'unclean consumer stop'));
  // One last record, so the group's view of this member's partitions is as recent as it can be.
  await group.stop();
  await group.sync();
  await bus.stop();
  await Promise.allSettled([producer.disconnect(), server.close()]);
  redis.disconnect();
  logger.info('stopped');
  return 'err' in outcome ? 1 : 0;
}

/** Starts anyway after the timeout: partitions then block, retrying, until Redis answers. */
async function waitForRedis(
  redis: ReturnType<typeof connectRedis>,
  timeoutMs: number,
  logger: ReturnType<typeof createLogger>,
): Promise<void> {
  if (redis.status === 'ready') return;
  const ready = new Promise<boolean>((resolve) => redis.once('ready', () => resolve(true)));
  if (!(await Promise.race([ready, sleep(timeoutMs).then(() => false)])))
    logger.warn({ timeoutMs }, 'redis not ready yet; starting anyway, events will retry');
}

async function topicPartitions(kafka: Kafka, topic: string, deadLetterTopic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    for (const t of [topic, deadLetterTopic])
      if (!existing.has(t))
        throw new ConfigError(t === topic ? '--topic' : '--dlq-topic', `topic ${t} does not exist; create it first`);
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return meta.topics[0]?.partitions.length ?? 1;
  } finally {
    await admin.disconnect();
  }
}

void runMain('fabric-invalidator', main, { knownErrors: [KafkaAccessError] });
