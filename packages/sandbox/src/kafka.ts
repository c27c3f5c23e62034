import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { deadLetterTopic, invalidationTopic } from '@fabric/contracts';
import { stopKafkajsIdleLoop } from '@fabric/runtime';
import { Kafka, logLevel } from 'kafkajs';
import type { Logger } from 'pino';
import { ServiceStartError } from './errors.js';
import { ServiceProcess } from './service-process.js';
import { waitUntilReady } from './wait.js';

const run = promisify(execFile);

export interface KafkaOptions {
  region: string;
  host: string;
  port: number;
  controllerPort: number;
  dir: string;
  logFile: string;
  java: string;
  kafkaLibs: string;
  heap: string;
  partitions: number;
  setpriv: string;
  /** netns mode: run inside the region's network namespace. */
  netns?: string;
  logger: Logger;
  /** A SASL_SSL listener instead of PLAINTEXT (see BrokerSecurity). */
  security?: BrokerSecurity;
}

/**
 * A broker that speaks only TLS with SCRAM logins, as a managed Kafka does: its clients
 * listener is SASL_SSL with the certificate `certFile`/`keyFile` (PEM, key unencrypted),
 * and `user` is created at format time with SCRAM-SHA-256 and -512 credentials, so the
 * broker refuses anyone else from its first start. The controller listener stays
 * plaintext on the broker's own host: only the broker itself talks to it.
 */
export interface BrokerSecurity {
  certFile: string;
  keyFile: string;
  /** CA that signed certFile: what clients verify the broker against. */
  caFile: string;
  user: { name: string; password: string };
}

/** One combined broker+controller in KRaft mode per region: no ZooKeeper. */
export async function startKafka(opts: KafkaOptions): Promise<ServiceProcess> {
  const name = `${opts.region} kafka`;
  const dataDir = path.join(opts.dir, 'data');
  mkdirSync(opts.dir, { recursive: true });
  const propsFile = path.join(opts.dir, 'server.properties');
  const log4jFile = path.join(opts.dir, 'log4j.properties');
  writeFileSync(propsFile, serverProperties(opts, dataDir) + (opts.security ? securityProperties(opts) : ''));
  writeFileSync(log4jFile, LOG4J);
  const classpath = path.join(opts.kafkaLibs, '*');
  const jvm = [`-Dlog4j.configuration=file:${log4jFile}`, '-cp', classpath];

  if (!existsSync(path.join(dataDir, 'meta.properties'))) {
    try {
      await run(opts.java, [
        ...jvm,
        'kafka.tools.StorageTool',
        'format',
        `--cluster-id=${clusterId(opts.dir)}`,
        '--config',
        propsFile,
        ...(opts.security ? scramUsers(opts.security.user) : []),
      ]);
    } catch (err) {
      const out = err as { stdout?: string; stderr?: string };
      throw new ServiceStartError(name, `storage format failed: ${(out.stderr || out.stdout || String(err)).trim()}`);
    }
  }

  const proc = ServiceProcess.start(
    {
      name,
      command: opts.java,
      // Serial GC and a small heap: three brokers share two cores with everything else.
      args: [
        `-Xms${opts.heap}`,
        `-Xmx${opts.heap}`,
        '-XX:+UseSerialGC',
        '-Djava.awt.headless=true',
        ...jvm,
        'kafka.Kafka',
        propsFile,
      ],
      logFile: opts.logFile,
      stopSignal: 'SIGTERM',
      setpriv: opts.setpriv,
      netns: opts.netns,
    },
    opts.logger,
  );
  stopKafkajsIdleLoop();
  const admin = new Kafka({
    clientId: 'fabric-sandbox',
    brokers: [`${opts.host}:${opts.port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 2_000,
    ...(opts.security
      ? {
          ssl: { ca: readFileSync(opts.security.caFile, 'utf8') },
          sasl: {
            mechanism: 'scram-sha-256' as const,
            username: opts.security.user.name,
            password: opts.security.user.password,
          },
        }
      : {}),
  }).admin();
  try {
    await waitUntilReady(
      proc,
      async () => {
        await admin.connect();
        const cluster = await admin.describeCluster();
        if (cluster.brokers.length === 0) throw new Error('no broker registered yet');
      },
      90_000,
    );
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: invalidationTopic(opts.region), numPartitions: opts.partitions, replicationFactor: 1 },
        { topic: deadLetterTopic(invalidationTopic(opts.region)), numPartitions: 1, replicationFactor: 1 },
      ],
    });
  } catch (err) {
    await proc.stop(5_000);
    throw err;
  } finally {
    await admin.disconnect();
  }
  return proc;
}

/** KRaft needs a stable cluster id across restarts: made once, kept beside the data. */
function clusterId(dir: string): string {
  const file = path.join(dir, 'cluster.id');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  // Like Kafka's own Uuid: never starting with '-', which its argument parser would take
  // for a flag.
  let id: string;
  do id = randomBytes(16).toString('base64url');
  while (id.startsWith('-'));
  writeFileSync(file, id);
  return id;
}

function serverProperties(opts: KafkaOptions, dataDir: string): string {
  const props: Record<string, string | number> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@${opts.host}:${opts.controllerPort}`,
    listeners: `PLAINTEXT://${opts.host}:${opts.port},CONTROLLER://${opts.host}:${opts.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${opts.host}:${opts.port}`,
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': dataDir,
    'num.partitions': opts.partitions,
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 3,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'group.initial.rebalance.delay.ms': 0,
    // Topics are created explicitly; a typo in a topic name must fail, not create a topic.
    'auto.create.topics.enable': 'false',
    'num.network.threads': 2,
    'num.io.threads': 2,
    'log.retention.hours': 168,
  };
  return (
    Object.entries(props)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n'
  );
}

/** The broker's clients listener as SASL_SSL, PEM files as they come from openssl. */
function securityProperties(opts: KafkaOptions): string {
  const sec = opts.security!;
  const keystore = path.join(opts.dir, 'broker-keystore.pem');
  // Kafka's PEM keystore is one file: the private key, then its certificate chain.
  writeFileSync(keystore, readFileSync(sec.keyFile, 'utf8') + readFileSync(sec.certFile, 'utf8'), { mode: 0o600 });
  const jaas = `org.apache.kafka.common.security.scram.ScramLoginModule required username="${jaasQuote(sec.user.name)}" password="${jaasQuote(sec.user.password)}";`;
  const props: Record<string, string> = {
    listeners: `SASL_SSL://${opts.host}:${opts.port},CONTROLLER://${opts.host}:${opts.controllerPort}`,
    'advertised.listeners': `SASL_SSL://${opts.host}:${opts.port}`,
    'listener.security.protocol.map': 'SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name': 'SASL_SSL',
    'sasl.enabled.mechanisms': 'SCRAM-SHA-256,SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-256',
    'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config': jaas,
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config': jaas,
    'ssl.keystore.type': 'PEM',
    'ssl.keystore.location': keystore,
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': sec.caFile,
  };
  // Later keys win in a properties file: these replace the plaintext listener above.
  return `${Object.entries(props)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;
}

function scramUsers(user: { name: string; password: string }): string[] {
  return ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => [
    '--add-scram',
    `${m}=[name=${user.name},password=${user.password}]`,
  ]);
}

function jaasQuote(value: string): string {
  return value.replace(/[\\"]/g, (c) => `\\${c}`);
}

const LOG4J = `log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.BrokerServer=INFO
log4j.logger.kafka.server.ControllerServer=INFO
`;
