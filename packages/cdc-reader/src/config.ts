import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  deadLetterTopic,
  identifierError,
  invalidationTopic,
  READER_PUBLICATION,
  READER_SLOT,
  regionNameError,
} from '@fabric/contracts';
import {
  ConfigError,
  integerFlag,
  KAFKA_SECURITY_HELP,
  KAFKA_SECURITY_OPTIONS,
  type KafkaSecurity,
  onOffFlag,
  parseKafkaSecurity,
  parseRedisTarget,
  postgresUrlWithTls,
  REDIS_HELP,
  REDIS_OPTIONS,
  type RedisTarget,
  requiredFlag,
} from '@fabric/runtime';
import { LIMIT_OPTIONS, LIMITS_HELP, parseLimitFlags, type ReaderLimits } from './limit-flags.js';

export interface ReaderConfig extends ReaderLimits {
  region: string;
  /** The home region's reader also writes the heartbeat (and, with logical replicas, relays logical messages). */
  home: boolean;
  /**
   * How the other regions follow the primary. With physical standbys every region decodes
   * the primary's WAL as replayed, logical messages included; logical subscriptions do not
   * carry messages, so the home reader relays them through the outbox.
   */
  replication: 'physical' | 'logical';
  /** The region's own database: the primary at home, a standby or logical replica elsewhere. */
  /** With its TLS settings (sslmode, sslrootcert) folded in: every connection made from it carries them. */
  postgresUrl: string;
  kafkaBrokers: string[];
  kafkaSecurity: KafkaSecurity;
  topic: string;
  deadLetterTopic: string;
  rulesPath: string;
  slot: string;
  publication: string;
  /** 0 turns the heartbeat off. */
  heartbeatMs: number;
  metricsHost: string;
  /** 0 picks a free port. */
  metricsPort: number;
  maxBatch: number;
  lingerMs: number;
  /** How long one Kafka batch may stay unacknowledged before /healthz answers 503 (ms). */
  healthGraceMs: number;
  /**
   * The region's Redis, where the continuity record lives; undefined only with
   * continuity off, a mode that exists to show what the check prevents.
   */
  redis: RedisTarget | undefined;
  continuity: boolean;
  /** What to do when a key rule reads old values the table's replica identity does not log. */
  replicaIdentity: 'refuse' | 'warn';
}

export const READER_HELP = `Usage: fabric-cdc-reader [options]

Tails one region's PostgreSQL WAL through a pgoutput slot, maps row changes to cache
operations with the key rules, and publishes InvalidationEvents to the region's Kafka
topic. The slot is confirmed only after Kafka acknowledged every event up to a commit,
so a crash replays (duplicates possible, loss not).

Options (environment variable in brackets):
  --region NAME          Region this reader serves [FABRIC_REGION]           (required)
  --postgres URL         The region's own database [FABRIC_POSTGRES_URL]      (required)
  --postgres-sslmode M   disable, require, verify-ca or verify-full, as libpq means them
                         (or sslmode= in the URL) [FABRIC_POSTGRES_SSLMODE]
  --postgres-ca FILE     CA that signed the server certificate (or sslrootcert= in the URL)
  --kafka HOST:PORT,...  The region's brokers [FABRIC_KAFKA_BROKERS]          (required)
${KAFKA_SECURITY_HELP}  --rules FILE           Key rules YAML [FABRIC_RULES]                        (required)
  --home                 This is the home region: write heartbeats (and relay logical
                         messages with --replication logical) [FABRIC_HOME=1]
  --replication MODE     physical (default): the other regions are physical standbys;
                         logical: they subscribe to a publication [FABRIC_REPLICATION]
  --topic NAME           Default ${invalidationTopic('<region>')}
  --dlq-topic NAME       Default ${deadLetterTopic(invalidationTopic('<region>'))}
  --slot NAME            Default ${READER_SLOT}
  --publication NAME     Default ${READER_PUBLICATION}
  --heartbeat-ms N       Heartbeat period at the primary, 0 = off (default 1000)
  --metrics-port N       Prometheus /metrics and /healthz (default 0 = any free port)
  --metrics-host ADDR    Default 127.0.0.1
  --max-batch N          Events per Kafka batch (default 500)
  --linger-ms N          Wait this long to fill a batch (default 5); a change arriving
                         when nothing was sent for ten times as long goes out at once
  --health-grace-ms N    /healthz answers 503 once Kafka has not acknowledged a batch
                         for this long (default 30000); at once while the WAL stream
                         is not streaming
${LIMITS_HELP}
Continuity: at every start the reader compares the database (system identifier,
timeline) and its slot with the record it keeps in the region's Redis. A slot that
was dropped, invalidated or recreated, a rebuilt database or a timeline it cannot
follow is a gap: the reader publishes a RESYNC (the key rules' recovery actions)
through the topic before streaming on, so nothing missed stays cached.
${REDIS_HELP}  --continuity on|off     off: no record, no gap check (a lost slot then leaves stale
                          entries cached silently; for demonstrations only). Default on
  --replica-identity refuse|warn
                          refuse (default): do not start while a key rule reads old
                          values ({old.col}, or {col} on DELETE) of a column its
                          table's replica identity does not log; the error names the
                          rule and the ALTER TABLE ... REPLICA IDENTITY FULL to run.
                          warn: start, log it, invalidate what renders and dead-letter
                          the rest [FABRIC_REPLICA_IDENTITY]
  --help
`;

const OPTIONS = {
  region: { type: 'string' },
  postgres: { type: 'string' },
  'postgres-sslmode': { type: 'string' },
  'postgres-ca': { type: 'string' },
  kafka: { type: 'string' },
  ...KAFKA_SECURITY_OPTIONS,
  rules: { type: 'string' },
  home: { type: 'boolean' },
  replication: { type: 'string' },
  topic: { type: 'string' },
  'dlq-topic': { type: 'string' },
  slot: { type: 'string' },
  publication: { type: 'string' },
  'heartbeat-ms': { type: 'string' },
  'metrics-port': { type: 'string' },
  'metrics-host': { type: 'string' },
  'max-batch': { type: 'string' },
  'linger-ms': { type: 'string' },
  'health-grace-ms': { type: 'string' },
  ...LIMIT_OPTIONS,
  ...REDIS_OPTIONS,
  continuity: { type: 'string' },
  'replica-identity': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Returns undefined when --help was asked for. */
export function parseReaderConfig(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  readFile = (f: string) => readFileSync(f, 'utf8'),
): ReaderConfig | undefined {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  if (values.help) return undefined;
  const region = requiredFlag('--region', values.region ?? env.FABRIC_REGION);
  const badRegion = regionNameError(region);
  if (badRegion) throw new ConfigError('--region', badRegion);
  const givenUrl = requiredFlag('--postgres', values.postgres ?? env.FABRIC_POSTGRES_URL);
  if (!/^postgres(ql)?:\/\//.test(givenUrl)) throw new ConfigError('--postgres', 'must be a postgres:// URL');
  const postgresUrl = postgresUrlWithTls('--postgres', givenUrl, {
    sslmode: values['postgres-sslmode'] ?? env.FABRIC_POSTGRES_SSLMODE,
    ca: values['postgres-ca'],
    caAt: '--postgres-ca',
  });
  const caFile = values['postgres-ca'];
  if (caFile) {
    try {
      readFile(caFile);
    } catch (err) {
      throw new ConfigError('--postgres-ca', `cannot read ${caFile}: ${(err as Error).message}`);
    }
  }
  const kafkaBrokers = requiredFlag('--kafka', values.kafka ?? env.FABRIC_KAFKA_BROKERS)
    .split(',')
    .map((b) => b.trim());
  kafkaBrokers.forEach((b, i) => {
    if (!/^[^:\s]+:\d{1,5}$/.test(b)) throw new ConfigError(`--kafka[${i}]`, `"${b}" must be host:port`);
  });
  const slot = identifier('--slot', values.slot ?? READER_SLOT);
  const publication = identifier('--publication', values.publication ?? READER_PUBLICATION);
  const topic = values.topic ?? invalidationTopic(region);
  const continuity = onOffFlag('--continuity', values.continuity ?? env.FABRIC_CONTINUITY ?? 'on');
  const redisGiven = Boolean(
    values.redis ?? env.FABRIC_REDIS_URL ?? values['redis-cluster'] ?? env.FABRIC_REDIS_CLUSTER,
  );
  if (continuity && !redisGiven)
    throw new ConfigError(
      '--redis',
      "is required: the reader keeps the region's continuity record in the region's Redis (or --redis-cluster)",
    );
  return {
    region,
    home: values.home ?? env.FABRIC_HOME === '1',
    replication: replicationMode(values.replication ?? env.FABRIC_REPLICATION ?? 'physical'),
    postgresUrl,
    kafkaBrokers,
    kafkaSecurity: parseKafkaSecurity(values, env, readFile),
    topic,
    deadLetterTopic: values['dlq-topic'] ?? deadLetterTopic(topic),
    rulesPath: requiredFlag('--rules', values.rules ?? env.FABRIC_RULES),
    slot,
    publication,
    heartbeatMs: integerFlag('--heartbeat-ms', values['heartbeat-ms'] ?? '1000', 0, 3_600_000),
    metricsHost: values['metrics-host'] ?? '127.0.0.1',
    metricsPort: integerFlag('--metrics-port', values['metrics-port'] ?? '0', 0, 65535),
    maxBatch: integerFlag('--max-batch', values['max-batch'] ?? '500', 1, 10_000),
    lingerMs: integerFlag('--linger-ms', values['linger-ms'] ?? '5', 0, 10_000),
    // Below a second a healthy batch under load could already count as stuck.
    healthGraceMs: integerFlag('--health-grace-ms', values['health-grace-ms'] ?? '30000', 1000, 3_600_000),
    ...parseLimitFlags(values),
    redis: redisGiven ? parseRedisTarget(values, env, readFile) : undefined,
    continuity,
    replicaIdentity: replicaIdentityPolicy(values['replica-identity'] ?? env.FABRIC_REPLICA_IDENTITY ?? 'refuse'),
  };
}

function replicaIdentityPolicy(value: string): 'refuse' | 'warn' {
  if (value === 'refuse' || value === 'warn') return value;
  throw new ConfigError('--replica-identity', `must be refuse or warn, got "${value}"`);
}

function replicationMode(value: string): 'physical' | 'logical' {
  if (value === 'physical' || value === 'logical') return value;
  throw new ConfigError('--replication', `must be physical or logical, got "${value}"`);
}

function identifier(flag: string, value: string): string {
  const bad = identifierError(value);
  if (bad) throw new ConfigError(flag, bad);
  return value;
}
