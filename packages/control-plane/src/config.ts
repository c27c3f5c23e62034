import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  deadLetterTopic,
  identifierError,
  invalidationTopic,
  invalidatorGroup,
  READER_SLOT,
  regionNameError,
  standbyApplicationName,
  standbySlotName,
  subscriptionName,
} from '@fabric/contracts';
import {
  ConfigError,
  KAFKA_SASL_MECHANISMS,
  type KafkaSaslMechanism,
  type KafkaSecurity,
  postgresUrlWithTls,
} from '@fabric/runtime';
import { SCOPES, type Scope, type TokenEntry } from './auth.js';
import { HEALTH_THRESHOLDS_HELP, type HealthThresholds, parseHealthThresholds } from './region-thresholds.js';
import { DEFAULT_LIMITS, parseServerLimits, type ServerLimits } from './server-limits.js';

export interface RegionConfig {
  name: string;
  /** The home region's database is the primary; the others are its standbys or logical replicas. */
  home: boolean;
  /** The region's own database. */
  postgresUrl: string;
  kafkaBrokers: string[];
  /** TLS and SASL to the region's brokers (kafkaTls, kafkaSasl); none is plaintext. */
  kafkaSecurity?: KafkaSecurity;
  topic: string;
  deadLetterTopic: string;
  /** The region's invalidator group, whose committed offsets define the Kafka lag. */
  consumerGroup: string;
  readerStatusUrl: string;
  invalidatorStatusUrl: string;
  /** The CDC reader's slot on the region's own database. */
  cdcSlot: string;
  /** Logical replicas: the region's subscription slot on the primary; undefined for the home region. */
  subscriptionSlot: string | undefined;
  /** Physical standbys: the standby's slot on the primary and the name it streams under; undefined at home. */
  standbySlot: string | undefined;
  standbyApplicationName: string | undefined;
}

/**
 * How the regions follow the primary. Absent means logical: configuration files from
 * before standbys were supported describe logical replicas.
 */
export type ReplicationMode = 'physical' | 'logical';

export interface TlsFiles {
  cert: string;
  key: string;
  /** When set, clients must present a certificate signed by this CA (mTLS). */
  clientCa: string | undefined;
}

export interface ControlPlaneConfig {
  /** allowInsecure: listen beyond loopback without TLS all the same (see listen-guard.ts). */
  listen: { host: string; port: number; allowInsecure?: boolean };
  metrics: { host: string; port: number };
  tokens: TokenEntry[];
  tls: TlsFiles | undefined;
  regions: RegionConfig[];
  replication: ReplicationMode;
  /** How long one probe of a database, broker or worker may take before it counts as unreachable. */
  probeTimeoutMs: number;
  /** Message sizes, streams and DLQ scans one server accepts. */
  limits: ServerLimits;
  /** Where a region stops being healthy (GetLag status and reasons, `fabric lag`'s exit status). */
  health: HealthThresholds;
}

export const CONTROL_PLANE_HELP = `Usage: fabric-control-plane --config FILE

The fabric's global control plane, a gRPC server:
  fabric.v1.LagService           GetLag, WatchLag: replication, CDC and Kafka lag,
                                 freshness, latency, DLQ depth and health per region
  fabric.v1.DeadLetterService    ListDeadLetters (row data for admin only), ReplayDeadLetters
                                 and ResolveDeadLetters (admin)
  fabric.v1.InvalidationService  Invalidate keys, tags, patterns (admin)
  fabric.v1.ContinuityService    Resync a region: run its recovery action (admin)
  grpc.health.v1.Health          Check, Watch (no token needed, for probes)
  grpc.reflection.v1(alpha)      server reflection, so grpcurl works
Every RPC but health needs 'authorization: Bearer <token>'; the token's scopes decide
what it may call ('read', or 'admin', which includes read). Prometheus metrics and a
liveness answer are served on the metrics port (/metrics, /healthz).

Options (environment variable in brackets):
  --config FILE   JSON configuration [FABRIC_CONTROL_PLANE_CONFIG]      (required)
  --help

Configuration file:
  {
    "listen":  { "host": "127.0.0.1", "port": 25430 },   (beyond loopback: "tls", or
               "allowInsecure": true for a network that encrypts on its own)
    "metrics": { "host": "127.0.0.1", "port": 25431 },
    "tokens":  [ { "name": "ops", "scopes": ["read", "admin"], "sha256": "<hex of sha256(token)>" } ],
    "tls":     { "cert": "server.pem", "key": "server.key", "clientCa": "ca.pem" },   (optional;
               clientCa requires client certificates; paths relative to the file)
    "probeTimeoutMs": 2000,                                                         (optional)
${HEALTH_THRESHOLDS_HELP}
    "limits": { "maxReceiveMessageBytes": ${DEFAULT_LIMITS.maxReceiveMessageBytes}, "maxSendMessageBytes": ${DEFAULT_LIMITS.maxSendMessageBytes},   (optional;
                "maxConcurrentStreams": ${DEFAULT_LIMITS.maxConcurrentStreams}, "maxConcurrentScans": ${DEFAULT_LIMITS.maxConcurrentScans} },   the defaults; streams per
               connection, scans = dead-letter listings/replays/resolutions at once)
    "replication": "physical",  (or "logical", the default: how the regions follow the primary)
    "regions": [ {
      "name": "us-east", "home": true,
      "postgresUrl": "postgres://postgres@127.0.0.1:25400/fabric",
               (TLS: ?sslmode=verify-full&sslrootcert=/abs/ca.pem, sslmode as libpq means it)
      "kafkaBrokers": ["127.0.0.1:25401"],
      "kafkaTls": { "ca": "kafka-ca.pem", "cert": "client.pem", "key": "client.key" },
               (optional; true for the system CAs; cert and key only for mTLS)
      "kafkaSasl": { "mechanism": "scram-sha-512", "username": "fabric", "passwordFile": "kafka.password" },
               (optional; scram-sha-256, scram-sha-512, or plain with kafkaTls)
      "readerStatusUrl": "http://127.0.0.1:25404/healthz",
      "invalidatorStatusUrl": "http://127.0.0.1:25405/healthz",
      "topic": "${invalidationTopic('us-east')}",               (default ${invalidationTopic('<name>')})
      "deadLetterTopic": "${deadLetterTopic(invalidationTopic('us-east'))}", (default ${deadLetterTopic('<topic>')})
      "consumerGroup": "${invalidatorGroup('us-east')}", (default ${invalidatorGroup('<name>')})
      "cdcSlot": "${READER_SLOT}",                       (default ${READER_SLOT})
      "subscriptionSlot": "${subscriptionName('eu-west')}"       (logical replicas; default ${subscriptionName('<name>')}, - as _)
      "standbySlot": "${standbySlotName('eu-west')}",  (physical standbys; default ${standbySlotName('<name>')})
      "standbyApplicationName": "${standbyApplicationName('eu-west')}"   (physical; default the name, - as _)
    } ]
  }
`;

/** Returns undefined when --help was asked for. */
export function parseControlPlaneArgs(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): { configPath: string } | undefined {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) return undefined;
  const configPath = values.config ?? env.FABRIC_CONTROL_PLANE_CONFIG;
  if (!configPath) throw new ConfigError('--config', 'is required (see --help)');
  return { configPath: path.resolve(configPath) };
}

export function loadControlPlaneConfig(file: string): ControlPlaneConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('--config', `cannot read ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, `not valid JSON: ${(err as Error).message}`);
  }
  return validateControlPlaneConfig(raw, path.dirname(file));
}

const HOST_PORT = /^[^:\s]+:\d{1,5}$/;
const SHA256 = /^[0-9a-f]{64}$/;

/** Checks raw JSON once, at start-up; every failure names its JSON path. `baseDir` anchors TLS paths. */
export function validateControlPlaneConfig(
  raw: unknown,
  baseDir: string,
  readFile: (f: string) => string = (f) => readFileSync(f, 'utf8'),
): ControlPlaneConfig {
  const root = object('config', raw);
  const replication = root.replication === undefined ? 'logical' : root.replication;
  if (replication !== 'physical' && replication !== 'logical')
    throw new ConfigError('replication', `must be "physical" or "logical", got ${JSON.stringify(replication)}`);
  const files = { baseDir, readFile };
  const regions = array('regions', root.regions).map((r, i) => region(`regions[${i}]`, r, replication, files));
  if (regions.length === 0) throw new ConfigError('regions', 'must list at least one region');
  const seen = new Set<string>();
  regions.forEach((r, i) => {
    if (seen.has(r.name)) throw new ConfigError(`regions[${i}].name`, `"${r.name}" is listed twice`);
    seen.add(r.name);
  });
  const homes = regions.filter((r) => r.home);
  if (homes.length !== 1)
    throw new ConfigError('regions', `exactly one region must have "home": true, found ${homes.length}`);
  const tokens = array('tokens', root.tokens).map((t, i) => token(`tokens[${i}]`, t));
  if (tokens.length === 0)
    throw new ConfigError('tokens', 'must list at least one token, or nobody could call the control plane');
  return {
    listen: listen('listen', root.listen),
    metrics: endpoint('metrics', root.metrics),
    tokens,
    tls: root.tls === undefined ? undefined : tls('tls', root.tls, baseDir),
    regions,
    replication,
    probeTimeoutMs:
      root.probeTimeoutMs === undefined ? 2_000 : integer('probeTimeoutMs', root.probeTimeoutMs, 100, 60_000),
    limits: parseServerLimits('limits', root.limits),
    health: parseHealthThresholds('health', root.health),
  };
}

interface ConfigFiles {
  baseDir: string;
  readFile: (f: string) => string;
}

function region(at: string, raw: unknown, replication: ReplicationMode, files: ConfigFiles): RegionConfig {
  const r = object(at, raw);
  const name = string(`${at}.name`, r.name);
  const badName = regionNameError(name);
  if (badName) throw new ConfigError(`${at}.name`, badName);
  const home = r.home === undefined ? false : boolean(`${at}.home`, r.home);
  const givenUrl = string(`${at}.postgresUrl`, r.postgresUrl);
  if (!/^postgres(ql)?:\/\//.test(givenUrl)) throw new ConfigError(`${at}.postgresUrl`, 'must be a postgres:// URL');
  const postgresUrl = postgresUrlWithTls(`${at}.postgresUrl`, givenUrl);
  const kafkaBrokers = array(`${at}.kafkaBrokers`, r.kafkaBrokers).map((b, i) => {
    const broker = string(`${at}.kafkaBrokers[${i}]`, b);
    if (!HOST_PORT.test(broker)) throw new ConfigError(`${at}.kafkaBrokers[${i}]`, `"${broker}" must be host:port`);
    return broker;
  });
  if (kafkaBrokers.length === 0) throw new ConfigError(`${at}.kafkaBrokers`, 'must list at least one broker');
  const topic = r.topic === undefined ? invalidationTopic(name) : string(`${at}.topic`, r.topic);
  const identifier = (
    field: 'cdcSlot' | 'subscriptionSlot' | 'standbySlot' | 'standbyApplicationName',
    fallback: string,
  ) => {
    const value = r[field] === undefined ? fallback : string(`${at}.${field}`, r[field]);
    const bad = identifierError(value);
    if (bad) throw new ConfigError(`${at}.${field}`, bad);
    return value;
  };
  return {
    name,
    home,
    postgresUrl,
    kafkaBrokers,
    kafkaSecurity: kafkaSecurity(at, r, files),
    topic,
    deadLetterTopic:
      r.deadLetterTopic === undefined ? deadLetterTopic(topic) : string(`${at}.deadLetterTopic`, r.deadLetterTopic),
    consumerGroup:
      r.consumerGroup === undefined ? invalidatorGroup(name) : string(`${at}.consumerGroup`, r.consumerGroup),
    readerStatusUrl: url(`${at}.readerStatusUrl`, r.readerStatusUrl),
    invalidatorStatusUrl: url(`${at}.invalidatorStatusUrl`, r.invalidatorStatusUrl),
    cdcSlot: identifier('cdcSlot', READER_SLOT),
    // The home database is the primary: it follows nothing.
    subscriptionSlot:
      home || replication !== 'logical' ? undefined : identifier('subscriptionSlot', subscriptionName(name)),
    standbySlot: home || replication !== 'physical' ? undefined : identifier('standbySlot', standbySlotName(name)),
    standbyApplicationName:
      home || replication !== 'physical'
        ? undefined
        : identifier('standbyApplicationName', standbyApplicationName(name)),
  };
}

/** The same options as the workers' --kafka-tls/--kafka-sasl flags, from a region's JSON. */
function kafkaSecurity(at: string, r: Record<string, unknown>, files: ConfigFiles): KafkaSecurity {
  const read = (field: string, value: unknown) => {
    const file = path.resolve(files.baseDir, string(field, value));
    try {
      return files.readFile(file);
    } catch (err) {
      throw new ConfigError(field, `cannot read ${file}: ${(err as Error).message}`);
    }
  };
  const security: KafkaSecurity = {};
  if (r.kafkaTls !== undefined && r.kafkaTls !== false) {
    const t = r.kafkaTls === true ? {} : object(`${at}.kafkaTls`, r.kafkaTls);
    if ((t.cert === undefined) !== (t.key === undefined))
      throw new ConfigError(`${at}.kafkaTls`, 'mTLS needs both "cert" and "key"');
    security.tls = {
      ...(t.ca === undefined ? {} : { ca: read(`${at}.kafkaTls.ca`, t.ca) }),
      ...(t.cert === undefined
        ? {}
        : { cert: read(`${at}.kafkaTls.cert`, t.cert), key: read(`${at}.kafkaTls.key`, t.key) }),
    };
  }
  if (r.kafkaSasl !== undefined) {
    const s = object(`${at}.kafkaSasl`, r.kafkaSasl);
    const mechanism = string(`${at}.kafkaSasl.mechanism`, s.mechanism);
    if (!KAFKA_SASL_MECHANISMS.includes(mechanism as KafkaSaslMechanism))
      throw new ConfigError(
        `${at}.kafkaSasl.mechanism`,
        `must be one of ${KAFKA_SASL_MECHANISMS.join(', ')}, got ${JSON.stringify(mechanism)}`,
      );
    if (mechanism === 'plain' && !security.tls)
      throw new ConfigError(
        `${at}.kafkaSasl.mechanism`,
        'plain sends the password in clear: give kafkaTls, or use SCRAM',
      );
    const password = read(`${at}.kafkaSasl.passwordFile`, s.passwordFile).trim();
    if (password === '') throw new ConfigError(`${at}.kafkaSasl.passwordFile`, 'is empty');
    security.sasl = {
      mechanism: mechanism as KafkaSaslMechanism,
      username: string(`${at}.kafkaSasl.username`, s.username),
      password,
    };
  }
  return security;
}

function token(at: string, raw: unknown): TokenEntry {
  const t = object(at, raw);
  const scopes = array(`${at}.scopes`, t.scopes).map((s, i) => {
    if (!SCOPES.includes(s as Scope))
      throw new ConfigError(`${at}.scopes[${i}]`, `must be one of ${SCOPES.join(', ')}, got ${JSON.stringify(s)}`);
    return s as Scope;
  });
  if (scopes.length === 0) throw new ConfigError(`${at}.scopes`, 'must grant at least one scope');
  const sha256 = string(`${at}.sha256`, t.sha256).toLowerCase();
  if (!SHA256.test(sha256))
    throw new ConfigError(`${at}.sha256`, "must be the 64 hex digits of the token's SHA-256 (never the token itself)");
  return { name: string(`${at}.name`, t.name), scopes, sha256 };
}

function tls(at: string, raw: unknown, baseDir: string): TlsFiles {
  const t = object(at, raw);
  const file = (field: string, value: unknown) => path.resolve(baseDir, string(`${at}.${field}`, value));
  return {
    cert: file('cert', t.cert),
    key: file('key', t.key),
    clientCa: t.clientCa === undefined ? undefined : file('clientCa', t.clientCa),
  };
}

function listen(at: string, raw: unknown): ControlPlaneConfig['listen'] {
  const e = object(at, raw);
  const base = endpoint(at, e);
  return e.allowInsecure === undefined
    ? base
    : { ...base, allowInsecure: boolean(`${at}.allowInsecure`, e.allowInsecure) };
}

function endpoint(at: string, raw: unknown): { host: string; port: number } {
  const e = object(at, raw);
  return {
    host: e.host === undefined ? '127.0.0.1' : string(`${at}.host`, e.host),
    port: integer(`${at}.port`, e.port, 0, 65535),
  };
}

function url(at: string, raw: unknown): string {
  const value = string(at, raw);
  if (!/^https?:\/\/[^\s/]+/.test(value)) throw new ConfigError(at, `"${value}" must be an http:// URL`);
  return value;
}

function object(at: string, raw: unknown): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(at, 'must be an object');
  return raw as Record<string, unknown>;
}

function array(at: string, raw: unknown): unknown[] {
  if (!Array.isArray(raw)) throw new ConfigError(at, 'must be an array');
  return raw;
}

function string(at: string, raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '') throw new ConfigError(at, 'must be a non-empty string');
  return raw.trim();
}

function boolean(at: string, raw: unknown): boolean {
  if (typeof raw !== 'boolean') throw new ConfigError(at, 'must be true or false');
  return raw;
}

function integer(at: string, raw: unknown, min: number, max: number): number {
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
    throw new ConfigError(at, `must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return raw;
}
