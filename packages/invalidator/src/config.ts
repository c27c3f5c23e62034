import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { deadLetterTopic, invalidationTopic, invalidatorGroup, regionNameError } from '@fabric/contracts';
import {
  ConfigError,
  hostPorts,
  integerFlag,
  KAFKA_SECURITY_HELP,
  KAFKA_SECURITY_OPTIONS,
  type KafkaSecurity,
  onOffFlag,
  parseKafkaSecurity,
  parseRedisTarget,
  REDIS_HELP,
  REDIS_OPTIONS,
  type RedisTarget,
  requiredFlag,
} from '@fabric/runtime';
import { DEFAULT_FILL_TOMBSTONE_MS, DEFAULT_VERSION_TTL_SECONDS } from '@fabric/sdk';
import type { RetryPolicy } from './retry-policy.js';

export type { RedisTarget } from '@fabric/runtime';

export interface InvalidatorConfig {
  region: string;
  kafkaBrokers: string[];
  kafkaSecurity: KafkaSecurity;
  topic: string;
  deadLetterTopic: string;
  groupId: string;
  redis: RedisTarget;
  retry: RetryPolicy;
  /** Events handed to Redis per pipeline round; a Kafka batch is cut into chunks of this. */
  maxBatch: number;
  /** How often applied offsets are committed (ms); 0 = after every chunk. */
  commitIntervalMs: number;
  fetchLingerMs: number;
  /** How long Redis may be unready, or the consumer out of its group, before /healthz answers 503 (ms). */
  healthGraceMs: number;
  metricsHost: string;
  metricsPort: number;
  /** SCAN COUNT of a resync's pattern pages: keys held, and Redis time taken, per step. */
  resyncPageSize: number;
  /** SSCAN and SCAN COUNT of an event's tag and pattern expansion, per step. */
  expandPageSize: number;
  /** Lifetime of a version key after its last bump (s); entries must not outlive it (SDK layout). */
  versionTtlSeconds: number;
  /** How long a revoked fill lease stays a tombstone (ms); 0 = leases are deleted (SDK layout). */
  fillTombstoneMs: number;
  /** Off: offsets that skip records are not checked (Kafka's silent reset); demonstrations only. */
  continuity: boolean;
}

export const INVALIDATOR_HELP = `Usage: fabric-invalidator [options]

Consumes one region's invalidation topic and applies each event to the region's Redis:
UNLINK keys and their fill leases, INCR version keys, expand tags, SCAN patterns.
Offsets are committed only after Redis acknowledged (or the event is in the DLQ), so a
crash replays events (harmless) and never skips them. An event Redis refuses for its own
data (WRONGTYPE, CROSSSLOT...), one still meeting a moving slot after --max-attempts, or
one that cannot be decoded, goes to the DLQ topic with the reason, its original bytes and
the attempt count. A Redis outage or server state (connection lost, LOADING, READONLY,
MISCONF, OOM, NOAUTH, NOPERM) dead-letters nothing: the partition blocks and retries with
backoff until Redis answers (fabric_inval_blocked_partitions, /healthz red after the grace).

Options (environment variable in brackets):
  --region NAME           Region this invalidator serves [FABRIC_REGION]        (required)
  --kafka HOST:PORT,...   The region's brokers [FABRIC_KAFKA_BROKERS]           (required)
${KAFKA_SECURITY_HELP}${REDIS_HELP}  --topic NAME            Default ${invalidationTopic('<region>')}
  --dlq-topic NAME        Default ${deadLetterTopic(invalidationTopic('<region>'))}
  --group ID              Consumer group, default ${invalidatorGroup('<region>')}
  --max-attempts N        Tries per event while its slot moves (TRYAGAIN, MOVED, ASK) before
                          the DLQ (default 8); outages are retried without limit
  --retry-base-ms N       First retry delay ceiling (default 200)
  --retry-cap-ms N        Largest retry delay ceiling (default 5000); delays are jittered.
                          Also bounds how long after an outage ends the partition resumes
  --max-batch N           Events per Redis pipeline round (default 500)
  --commit-interval-ms N  Commit applied offsets this often; 0 = after every chunk
                          (default 250). A crash redelivers at most this much (harmless).
  --fetch-linger-ms N     After a batch smaller than --max-batch, fetch again no sooner
                          than this (default 0 = at once): a steady stream is then applied
                          in rounds of what came meanwhile, fewer and larger, for at most
                          this much more commit-to-applied latency
  --health-grace-ms N     /healthz answers 503 once Redis has been unreachable, the consumer
                          out of its group, or every apply failing this long (default 10000)
  --resync-page N         Keys per SCAN page when a resync drops a recovery pattern
                          (default 1000): bounds memory and each step's time in Redis
  --expand-page N         Tag members (SSCAN) and pattern matches (SCAN) per step when an
                          event is expanded (default 500): bounds memory and each step in Redis
  --version-ttl-seconds N Lifetime of a version key after its last bump (default 604800, 7
                          days). Must exceed every cache entry's TTL: the SDK refuses a
                          ttlSeconds at or above its versionTtlSeconds (same default)
  --fill-tombstone-ms N   Revoked fill leases stay a tombstone this long, so no fill starts
                          before a commit decoded early (synchronous standby not yet
                          acknowledged) is visible to readers (default ${DEFAULT_FILL_TOMBSTONE_MS}; 0 = delete
                          them: safe only without synchronous standbys). Must exceed the
                          standby's acknowledgement time; readers of the key wait that long
  --continuity on|off     off: no check of committed offsets against the log, so records
                          expired unread are skipped silently (demonstrations only). Default on
  --metrics-port N        Prometheus /metrics and /healthz (default 0 = any free port)
  --metrics-host ADDR     Default 127.0.0.1
  --help
`;

const OPTIONS = {
  region: { type: 'string' },
  kafka: { type: 'string' },
  ...KAFKA_SECURITY_OPTIONS,
  ...REDIS_OPTIONS,
  topic: { type: 'string' },
  'dlq-topic': { type: 'string' },
  group: { type: 'string' },
  'max-attempts': { type: 'string' },
  'retry-base-ms': { type: 'string' },
  'retry-cap-ms': { type: 'string' },
  'max-batch': { type: 'string' },
  'commit-interval-ms': { type: 'string' },
  'fetch-linger-ms': { type: 'string' },
  'health-grace-ms': { type: 'string' },
  'metrics-port': { type: 'string' },
  'metrics-host': { type: 'string' },
  'resync-page': { type: 'string' },
  'expand-page': { type: 'string' },
  'version-ttl-seconds': { type: 'string' },
  'fill-tombstone-ms': { type: 'string' },
  continuity: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Returns undefined when --help was asked for. */
export function parseInvalidatorConfig(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  readFile = (f: string) => readFileSync(f, 'utf8'),
): InvalidatorConfig | undefined {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  if (values.help) return undefined;
  const region = requiredFlag('--region', values.region ?? env.FABRIC_REGION);
  const badRegion = regionNameError(region);
  if (badRegion) throw new ConfigError('--region', badRegion);
  const kafkaBrokers = hostPorts('--kafka', requiredFlag('--kafka', values.kafka ?? env.FABRIC_KAFKA_BROKERS)).map(
    (n) => `${n.host}:${n.port}`,
  );
  const topic = values.topic ?? invalidationTopic(region);
  const baseMs = integerFlag('--retry-base-ms', values['retry-base-ms'] ?? '200', 1, 60_000);
  const capMs = integerFlag('--retry-cap-ms', values['retry-cap-ms'] ?? '5000', 1, 600_000);
  if (capMs < baseMs) throw new ConfigError('--retry-cap-ms', `must be at least --retry-base-ms (${baseMs})`);
  return {
    region,
    kafkaBrokers,
    kafkaSecurity: parseKafkaSecurity(values, env, readFile),
    topic,
    deadLetterTopic: values['dlq-topic'] ?? deadLetterTopic(topic),
    groupId: values.group ?? invalidatorGroup(region),
    redis: parseRedisTarget(values, env, readFile),
    retry: { maxAttempts: integerFlag('--max-attempts', values['max-attempts'] ?? '8', 1, 1000), baseMs, capMs },
    maxBatch: integerFlag('--max-batch', values['max-batch'] ?? '500', 1, 10_000),
    commitIntervalMs: integerFlag('--commit-interval-ms', values['commit-interval-ms'] ?? '250', 0, 60_000),
    fetchLingerMs: integerFlag('--fetch-linger-ms', values['fetch-linger-ms'] ?? '0', 0, 1_000),
    healthGraceMs: integerFlag('--health-grace-ms', values['health-grace-ms'] ?? '10000', 0, 3_600_000),
    metricsHost: values['metrics-host'] ?? '127.0.0.1',
    metricsPort: integerFlag('--metrics-port', values['metrics-port'] ?? '0', 0, 65535),
    resyncPageSize: integerFlag('--resync-page', values['resync-page'] ?? '1000', 10, 100_000),
    expandPageSize: integerFlag('--expand-page', values['expand-page'] ?? '500', 10, 100_000),
    versionTtlSeconds: integerFlag(
      '--version-ttl-seconds',
      values['version-ttl-seconds'] ?? String(DEFAULT_VERSION_TTL_SECONDS),
      60,
      10 * 365 * 24 * 3600,
    ),
    fillTombstoneMs: integerFlag(
      '--fill-tombstone-ms',
      values['fill-tombstone-ms'] ?? String(DEFAULT_FILL_TOMBSTONE_MS),
      0,
      60_000,
    ),
    continuity: onOffFlag('--continuity', values.continuity ?? env.FABRIC_CONTINUITY ?? 'on'),
  };
}
