import { parseArgs } from 'node:util';
import { ConfigError, integerFlag, requiredFlag } from '@fabric/runtime';

export interface ReaderConfig {
  region: string;
  /** The home region's reader also writes the heartbeat and relays logical messages. */
  home: boolean;
  /** The region's own database: the primary at home, the logical replica elsewhere. */
  postgresUrl: string;
  kafkaBrokers: string[];
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
}

export const READER_HELP = `Usage: fabric-cdc-reader [options]

Tails one region's PostgreSQL WAL through a pgoutput slot, maps row changes to cache
operations with the key rules, and publishes InvalidationEvents to the region's Kafka
topic. The slot is confirmed only after Kafka acknowledged every event up to a commit,
so a crash replays (duplicates possible, loss not).

Options (environment variable in brackets):
  --region NAME          Region this reader serves [FABRIC_REGION]           (required)
  --postgres URL         The region's own database [FABRIC_POSTGRES_URL]      (required)
  --kafka HOST:PORT,...  The region's brokers [FABRIC_KAFKA_BROKERS]          (required)
  --rules FILE           Key rules YAML [FABRIC_RULES]                        (required)
  --home                 This is the home region: write heartbeats, relay logical
                         messages to the other regions [FABRIC_HOME=1]
  --topic NAME           Default fabric.inval.<region>
  --dlq-topic NAME       Default fabric.inval.<region>.dlq
  --slot NAME            Default fabric_cdc
  --publication NAME     Default fabric_cdc
  --heartbeat-ms N       Heartbeat period at the primary, 0 = off (default 1000)
  --metrics-port N       Prometheus /metrics and /healthz (default 0 = any free port)
  --metrics-host ADDR    Default 127.0.0.1
  --max-batch N          Events per Kafka batch (default 500)
  --linger-ms N          Wait this long to fill a batch (default 5)
  --help
`;

const OPTIONS = {
  region: { type: 'string' },
  postgres: { type: 'string' },
  kafka: { type: 'string' },
  rules: { type: 'string' },
  home: { type: 'boolean' },
  topic: { type: 'string' },
  'dlq-topic': { type: 'string' },
  slot: { type: 'string' },
  publication: { type: 'string' },
  'heartbeat-ms': { type: 'string' },
  'metrics-port': { type: 'string' },
  'metrics-host': { type: 'string' },
  'max-batch': { type: 'string' },
  'linger-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;
const REGION = /^[a-z][a-z0-9-]{0,22}[a-z0-9]$/;

/** Returns undefined when --help was asked for. */
export function parseReaderConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): ReaderConfig | undefined {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  if (values.help) return undefined;
  const region = requiredFlag('--region', values.region ?? env.FABRIC_REGION);
  if (!REGION.test(region))
    throw new ConfigError('--region', `"${region}" is not a region name (lowercase letters, digits, dashes)`);
  const postgresUrl = requiredFlag('--postgres', values.postgres ?? env.FABRIC_POSTGRES_URL);
  if (!/^postgres(ql)?:\/\//.test(postgresUrl)) throw new ConfigError('--postgres', 'must be a postgres:// URL');
  const kafkaBrokers = requiredFlag('--kafka', values.kafka ?? env.FABRIC_KAFKA_BROKERS)
    .split(',')
    .map((b) => b.trim());
  kafkaBrokers.forEach((b, i) => {
    if (!/^[^:\s]+:\d{1,5}$/.test(b)) throw new ConfigError(`--kafka[${i}]`, `"${b}" must be host:port`);
  });
  const slot = values.slot ?? 'fabric_cdc';
  if (!IDENT.test(slot)) throw new ConfigError('--slot', `"${slot}" must be a lowercase identifier`);
  const publication = values.publication ?? 'fabric_cdc';
  if (!IDENT.test(publication))
    throw new ConfigError('--publication', `"${publication}" must be a lowercase identifier`);
  const topic = values.topic ?? `fabric.inval.${region}`;
  return {
    region,
    home: values.home ?? env.FABRIC_HOME === '1',
    postgresUrl,
    kafkaBrokers,
    topic,
    deadLetterTopic: values['dlq-topic'] ?? `${topic}.dlq`,
    rulesPath: requiredFlag('--rules', values.rules ?? env.FABRIC_RULES),
    slot,
    publication,
    heartbeatMs: integerFlag('--heartbeat-ms', values['heartbeat-ms'] ?? '1000', 0, 3_600_000),
    metricsHost: values['metrics-host'] ?? '127.0.0.1',
    metricsPort: integerFlag('--metrics-port', values['metrics-port'] ?? '0', 0, 65535),
    maxBatch: integerFlag('--max-batch', values['max-batch'] ?? '500', 1, 10_000),
    lingerMs: integerFlag('--linger-ms', values['linger-ms'] ?? '5', 0, 10_000),
  };
}
