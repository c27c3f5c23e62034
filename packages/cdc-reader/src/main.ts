#!/usr/bin/env node
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReaderContinuity } from '@fabric/contracts';
import { HEARTBEAT_TABLE, OUTBOX_TABLE } from '@fabric/contracts';
import {
  connectRedis,
  createLogger,
  describeKafkaSecurity,
  explainKafkaError,
  KafkaAccessError,
  onShutdownSignal,
  routeProcessWarnings,
  runMain,
  startMetricsServer,
} from '@fabric/runtime';
import pg from 'pg';
import type pino from 'pino';
import { parseReaderConfig, READER_HELP } from './config.js';
import { ConfirmGate } from './continuity/confirm-gate.js';
import { databaseIdentity } from './continuity/database-identity.js';
import { establishContinuity } from './continuity/establish.js';
import { ContinuityStore } from './continuity/record-store.js';
import { TimelineProbe } from './continuity/timeline-probe.js';
import { connectKafkaSink } from './kafka-sink.js';
import { ReaderMetrics } from './metrics.js';
import { ReplicationStream } from './pgoutput/index.js';
import { connectSetupClient, PostgresAccessError } from './postgres-access.js';
import { CdcReader } from './reader.js';
import { enforceReplicaIdentity, ReplicaIdentityError, readTableCatalog } from './replica-identity.js';
import { KeyRulesError, loadKeyRules, renderRecovery } from './rules/index.js';
import { ensureSlotAndPublication, SlotSetupError } from './slot-setup.js';

async function main(): Promise<number> {
  const config = parseReaderConfig(process.argv.slice(2));
  if (!config) {
    process.stdout.write(READER_HELP);
    return 0;
  }
  const logger = createLogger('cdc-reader', { region: config.region });
  routeProcessWarnings(logger);
  const signalled = onShutdownSignal(logger);
  const rules = await loadKeyRules(config.rulesPath);
  const metrics = new ReaderMetrics(config.region);

  const redis =
    config.continuity && config.redis ? connectRedis(config.redis, `fabric-cdc-${config.region}`) : undefined;
  redis?.on('error', (err: Error) => logger.debug({ err: err.message }, 'redis connection error'));
  const store = redis && new ContinuityStore(redis, config.topic);
  if (!config.continuity)
    logger.warn('continuity is off: a lost or recreated slot will leave stale entries cached without a word');

  // Listening before the slot exists: creating it can wait minutes for transactions at the
  // primary, and a probe that finds nothing listening would restart the reader mid-wait.
  // Until the stream runs, /metrics answers and /healthz says which step it is on (503).
  let reader: CdcReader | undefined;
  let stage = 'connecting to PostgreSQL';
  const server = await startMetricsServer(metrics.registry, {
    host: config.metricsHost,
    port: config.metricsPort,
    health: () => reader?.health ?? { ok: false, detail: `starting: ${stage}`, pending: 0 },
  });
  const setupClient = await connectSetupClient(config.postgresUrl);
  let setup: Awaited<ReturnType<typeof ensureSlotAndPublication>>;
  try {
    // Before the slot exists: a reader refused here must not leave a slot holding WAL.
    const identity = enforceReplicaIdentity(
      rules,
      await readTableCatalog(setupClient, rules.tables.keys()),
      config.replicaIdentity,
      logger,
    );
    for (const [table, gaps] of identity.gapsByTable) metrics.identityGaps.set({ table }, gaps);
    stage = `creating or finding slot ${config.slot}`;
    setup = await ensureSlotAndPublication(setupClient, {
      slot: config.slot,
      publication: config.publication,
      tables: [...rules.tables.keys(), HEARTBEAT_TABLE, OUTBOX_TABLE],
      onWait: (message) => {
        stage = message;
        logger.info(message);
      },
      replaceInvalidated: config.continuity,
    });
  } finally {
    await setupClient.end();
  }

  stage = 'connecting to Kafka';
  const pool = new pg.Pool({ connectionString: config.postgresUrl, max: 2 });
  // A broker that wants TLS or SASL only hangs up: say which flag is missing, not "Closed connection".
  const sink = await connectKafkaSink({
    brokers: config.kafkaBrokers,
    security: config.kafkaSecurity,
    clientId: `fabric-cdc-${config.region}`,
    topic: config.topic,
    logger,
    onProducerRecreated: (type) => metrics.producerRecreated.inc({ type }),
  }).catch((err: unknown) => {
    throw explainKafkaError(err, config.kafkaSecurity);
  });
  let continuity: ReaderContinuity = { verdict: 'unchecked', checkedAt: new Date().toISOString() };
  let timeline: TimelineProbe | undefined;
  if (store) {
    stage = 'checking continuity against the record in Redis';
    await waitForRedis(redis!, logger);
    const identity = await databaseIdentity(config.postgresUrl);
    timeline = new TimelineProbe(pool, identity.timeline, (err) => logger.debug({ err }, 'timeline probe failed'));
    continuity = await establishContinuity({
      region: config.region,
      slot: config.slot,
      topic: config.topic,
      partitions: sink.partitions,
      store,
      identity,
      setup,
      recovery: renderRecovery(rules),
      send: sink.send,
      logger,
      onGap: (reason) => metrics.resyncs.inc({ reason }),
    });
  }
  stage = 'starting the replication stream';
  // Frequent status updates keep the replay after a crash short (fewer duplicates).
  const statusIntervalMs = 250;
  const stream = new ReplicationStream({
    connectionString: config.postgresUrl,
    slot: config.slot,
    publication: config.publication,
    logger,
    statusIntervalMs,
    onKeepalive: (walEnd) => reader?.onKeepalive(walEnd),
  });
  let recordErrorLogged = false;
  const gate =
    store &&
    new ConfirmGate({
      record: async (lsn) => {
        await timeline!.read();
        await store.confirmed(lsn, timeline!.current);
      },
      confirm: (lsn) => stream.confirm(lsn),
      // The slot hears of its position once per status interval: recording more often buys nothing.
      minIntervalMs: statusIntervalMs,
      onError: (err) => {
        if (!recordErrorLogged)
          logger.error({ err }, 'cannot write the continuity record; the slot is not confirmed until Redis answers');
        recordErrorLogged = true;
      },
      onRecorded: () => {
        if (recordErrorLogged) logger.info('continuity record written again; confirming the slot');
        recordErrorLogged = false;
      },
    });
  reader = new CdcReader({
    config,
    rules,
    logger,
    metrics,
    pool,
    stream,
    send: sink.send,
    partitions: sink.partitions,
    continuity,
    ...(gate
      ? {
          confirm: (lsn: string) => gate.offer(lsn),
          settleConfirmations: () => gate.flush(),
          recordFailingSince: () => gate.failingSince,
        }
      : {}),
  });
  await reader.start();
  logger.info(
    {
      metricsPort: server.port,
      tables: [...rules.tables.keys()],
      partitions: sink.partitions,
      home: config.home,
      replication: config.replication,
      kafka: describeKafkaSecurity(config.kafkaSecurity),
    },
    'cdc reader started',
  );

  const outcome = await Promise.race([signalled.then((s) => ({ signal: s })), stream.closed.then((err) => ({ err }))]);
  if ('err' in outcome && outcome.err)
    logger.error(
      { err: outcome.err },
      'replication stream failed; stopping so a restart resumes from the confirmed LSN',
    );
  else logger.info(outcome, 'stopping');
  await reader.stop().catch((err: unknown) => logger.warn({ err }, 'unclean stop'));
  await Promise.allSettled([sink.close(), pool.end(), server.close()]);
  redis?.disconnect();
  logger.info('stopped');
  return 'err' in outcome && outcome.err ? 1 : 0;
}

/** The record is read before streaming starts: without Redis the reader cannot know what it skips. */
async function waitForRedis(redis: NonNullable<ReturnType<typeof connectRedis>>, logger: pino.Logger): Promise<void> {
  for (let waited = 0; redis.status !== 'ready'; waited += 500) {
    if (waited % 10_000 === 0 && waited > 0)
      logger.warn({ waitedMs: waited }, "waiting for the region's Redis to read the continuity record");
    await sleep(500);
  }
}

void runMain('fabric-cdc-reader', main, {
  knownErrors: [KeyRulesError, SlotSetupError, ReplicaIdentityError, KafkaAccessError, PostgresAccessError],
});
