import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { deadLetterTopic, invalidationTopic, invalidatorGroup, regionNameError } from '@fabric/contracts';
import { ConfigError, integerFlag, requiredFlag } from '@fabric/runtime';
import type { RetryPolicy } from './retry-policy.js';

export interface RedisTarget {
  /** One standalone server, or the seed nodes of a Redis Cluster. */
  mode: 'standalone' | 'cluster';
  nodes: Array<{ host: string; port: number }>;
  db: number;
  username?: string;
  password?: string;
  tls?: { ca?: string; servername?: string };
  commandTimeoutMs: number;
}

export interface InvalidatorConfig {
  region: string;
  kafkaBrokers: string[];
  topic: string;
  deadLetterTopic: string;
  groupId: string;
  redis: RedisTarget;
  retry: RetryPolicy;
  /** Events handed to Redis per pipeline round; a Kafka batch is cut into chunks of this. */
  maxBatch: number;
  /** How often applied offsets are committed (ms); 0 = after every chunk. */
  commitIntervalMs: number;
  /** How long Redis may be unready, or the consumer out of its group, before /healthz answers 503 (ms). */
  healthGraceMs: number;
  metricsHost: string;
  metricsPort: number;
}

export const INVALIDATOR_HELP = `Usage: fabric-invalidator [options]

Consumes one region's invalidation topic and applies each event to the region's Redis:
UNLINK keys and their fill leases, INCR version keys, expand tags, SCAN patterns.
Offsets are committed only after Redis acknowledged (or the event is in the DLQ), so a
crash replays events (harmless) and never skips them. An event still failing after
--max-attempts, or one that cannot be decoded, goes to the DLQ topic with the reason,
its original bytes and the attempt count.

Options (environment variable in brackets):
  --region NAME           Region this invalidator serves [FABRIC_REGION]        (required)
  --kafka HOST:PORT,...   The region's brokers [FABRIC_KAFKA_BROKERS]           (required)
  --redis URL             redis://[user:pass@]host:port[/db], rediss:// for TLS [FABRIC_REDIS_URL]
  --redis-cluster H:P,... Seed nodes of a Redis Cluster instead of --redis [FABRIC_REDIS_CLUSTER]
  --redis-user NAME       ACL user [FABRIC_REDIS_USER]
  --redis-password-file F ACL password, read from a file; or [FABRIC_REDIS_PASSWORD]
  --redis-tls             TLS to Redis (implied by rediss://)
  --redis-tls-ca FILE     CA bundle to verify the Redis server certificate
  --redis-timeout-ms N    Fail a Redis command after this long, then retry (default 2000)
  --topic NAME            Default ${invalidationTopic('<region>')}
  --dlq-topic NAME        Default ${deadLetterTopic(invalidationTopic('<region>'))}
  --group ID              Consumer group, default ${invalidatorGroup('<region>')}
  --max-attempts N        Tries per event before the DLQ (default 8)
  --retry-base-ms N       First retry delay ceiling (default 200)
  --retry-cap-ms N        Largest retry delay ceiling (default 5000); delays are jittered
  --max-batch N           Events per Redis pipeline round (default 500)
  --commit-interval-ms N  Commit applied offsets this often; 0 = after every chunk
                          (default 250). A crash redelivers at most this much (harmless).
  --health-grace-ms N     /healthz answers 503 once Redis has been unreachable, the consumer
                          out of its group, or every apply failing this long (default 10000)
  --metrics-port N        Prometheus /metrics and /healthz (default 0 = any free port)
  --metrics-host ADDR     Default 127.0.0.1
  --help
`;

const OPTIONS = {
  region: { type: 'string' },
  kafka: { type: 'string' },
  redis: { type: 'string' },
  'redis-cluster': { type: 'string' },
  'redis-user': { type: 'string' },
  'redis-password-file': { type: 'string' },
  'redis-tls': { type: 'boolean' },
  'redis-tls-ca': { type: 'string' },
  'redis-timeout-ms': { type: 'string' },
  topic: { type: 'string' },
  'dlq-topic': { type: 'string' },
  group: { type: 'string' },
  'max-attempts': { type: 'string' },
  'retry-base-ms': { type: 'string' },
  'retry-cap-ms': { type: 'string' },
  'max-batch': { type: 'string' },
  'commit-interval-ms': { type: 'string' },
  'health-grace-ms': { type: 'string' },
  'metrics-port': { type: 'string' },
  'metrics-host': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const HOST_PORT = /^([^:\s]+):(\d{1,5})$/;

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
    topic,
    deadLetterTopic: values['dlq-topic'] ?? deadLetterTopic(topic),
    groupId: values.group ?? invalidatorGroup(region),
    redis: redisTarget(values, env, readFile),
    retry: { maxAttempts: integerFlag('--max-attempts', values['max-attempts'] ?? '8', 1, 1000), baseMs, capMs },
    maxBatch: integerFlag('--max-batch', values['max-batch'] ?? '500', 1, 10_000),
    commitIntervalMs: integerFlag('--commit-interval-ms', values['commit-interval-ms'] ?? '250', 0, 60_000),
    healthGraceMs: integerFlag('--health-grace-ms', values['health-grace-ms'] ?? '10000', 0, 3_600_000),
    metricsHost: values['metrics-host'] ?? '127.0.0.1',
    metricsPort: integerFlag('--metrics-port', values['metrics-port'] ?? '0', 0, 65535),
  };
}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];

function redisTarget(values: Values, env: NodeJS.ProcessEnv, readFile: (f: string) => string): RedisTarget {
  const url = values.redis ?? env.FABRIC_REDIS_URL;
  const cluster = values['redis-cluster'] ?? env.FABRIC_REDIS_CLUSTER;
  if (url && cluster) throw new ConfigError('--redis-cluster', 'give either --redis or --redis-cluster, not both');
  if (!url && !cluster) throw new ConfigError('--redis', 'is required (or --redis-cluster); see --help');
  const commandTimeoutMs = integerFlag('--redis-timeout-ms', values['redis-timeout-ms'] ?? '2000', 50, 600_000);
  let target: RedisTarget;
  if (url) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError('--redis', `"${url}" is not a URL; expected redis://host:port`);
    }
    if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
      throw new ConfigError('--redis', `must start with redis:// or rediss://, got "${parsed.protocol}"`);
    const db = parsed.pathname.length > 1 ? integerFlag('--redis', parsed.pathname.slice(1), 0, 15) : 0;
    target = {
      mode: 'standalone',
      nodes: [{ host: parsed.hostname, port: parsed.port ? integerFlag('--redis', parsed.port, 1, 65535) : 6379 }],
      db,
      username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
      password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
      tls: parsed.protocol === 'rediss:' ? {} : undefined,
      commandTimeoutMs,
    };
  } else {
    target = { mode: 'cluster', nodes: hostPorts('--redis-cluster', cluster!), db: 0, commandTimeoutMs };
  }
  const username = values['redis-user'] ?? env.FABRIC_REDIS_USER;
  if (username) target.username = username;
  const passwordFile = values['redis-password-file'];
  if (passwordFile) {
    try {
      target.password = readFile(passwordFile).trim();
    } catch (err) {
      throw new ConfigError('--redis-password-file', `cannot read ${passwordFile}: ${(err as Error).message}`);
    }
  } else if (env.FABRIC_REDIS_PASSWORD) {
    target.password = env.FABRIC_REDIS_PASSWORD;
  }
  if (values['redis-tls'] || values['redis-tls-ca']) target.tls = { ...target.tls };
  const caFile = values['redis-tls-ca'];
  if (caFile) {
    try {
      target.tls!.ca = readFile(caFile);
    } catch (err) {
      throw new ConfigError('--redis-tls-ca', `cannot read ${caFile}: ${(err as Error).message}`);
    }
  }
  return target;
}

function hostPorts(path: string, raw: string): Array<{ host: string; port: number }> {
  return raw.split(',').map((entry, i) => {
    const m = HOST_PORT.exec(entry.trim());
    if (!m) throw new ConfigError(`${path}[${i}]`, `"${entry.trim()}" must be host:port`);
    return { host: m[1]!, port: integerFlag(`${path}[${i}]`, m[2]!, 1, 65535) };
  });
}
