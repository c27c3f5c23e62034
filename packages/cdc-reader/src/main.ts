#!/usr/bin/env node
import { HEARTBEAT_TABLE, OUTBOX_TABLE } from '@fabric/contracts';
import { createLogger, onShutdownSignal, routeProcessWarnings, runMain, startMetricsServer } from '@fabric/runtime';
import pg from 'pg';
import { parseReaderConfig, READER_HELP } from './config.js';
import { connectKafkaSink } from './kafka-sink.js';
import { ReaderMetrics } from './metrics.js';
import { ReplicationStream } from './pgoutput/index.js';
import { CdcReader } from './reader.js';
import { KeyRulesError, loadKeyRules } from './rules/index.js';
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

  const setup = new pg.Client({ connectionString: config.postgresUrl });
  await setup.connect();
  try {
    await ensureSlotAndPublication(setup, {
      slot: config.slot,
      publication: config.publication,
      tables: [...rules.tables.keys(), HEARTBEAT_TABLE, OUTBOX_TABLE],
      onWait: (message) => logger.info(message),
    });
  } finally {
    await setup.end();
  }

  const pool = new pg.Pool({ connectionString: config.postgresUrl, max: 2 });
  const sink = await connectKafkaSink({
    brokers: config.kafkaBrokers,
    clientId: `fabric-cdc-${config.region}`,
    topic: config.topic,
    logger,
  });
  let reader: CdcReader | undefined;
  const stream = new ReplicationStream({
    connectionString: config.postgresUrl,
    slot: config.slot,
    publication: config.publication,
    logger,
    // Frequent status updates keep the replay after a crash short (fewer duplicates).
    statusIntervalMs: 250,
    onKeepalive: (walEnd) => reader?.onKeepalive(walEnd),
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
  });
  const server = await startMetricsServer(metrics.registry, {
    host: config.metricsHost,
    port: config.metricsPort,
    health: () => reader!.health,
  });
  await reader.start();
  logger.info(
    {
      metricsPort: server.port,
      tables: [...rules.tables.keys()],
      partitions: sink.partitions,
      home: config.home,
      replication: config.replication,
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
  logger.info('stopped');
  return 'err' in outcome && outcome.err ? 1 : 0;
}

void runMain('fabric-cdc-reader', main, { knownErrors: [KeyRulesError, SlotSetupError] });
