import path from 'node:path';
import { regionNameError } from '@fabric/contracts';
import { ConfigError } from './errors.js';
import {
  DEFAULT_POSTGRES_VERSION,
  FIRST_STANDBY_DECODING_VERSION,
  POSTGRES_VERSIONS,
  type PostgresVersion,
} from './postgres-versions.js';

/**
 * How the other regions follow the primary. 'physical': each is a streaming standby whose
 * reader decodes the standby's own WAL (PostgreSQL 16+), what managed replicas and Patroni
 * clusters run. 'logical': each is a subscriber with its own WAL (PostgreSQL 15, or by choice).
 */
export type ReplicationMode = 'physical' | 'logical';
export const REPLICATION_MODES: readonly ReplicationMode[] = ['physical', 'logical'];

/** What a sandbox runs when nothing is chosen: physical standbys, as most operators run. */
export const DEFAULT_TOPOLOGY: { postgres: PostgresVersion; replication: ReplicationMode } = {
  postgres: DEFAULT_POSTGRES_VERSION,
  replication: 'physical',
};

export interface RegionSpec {
  /** DNS-label-like name used in topic names, slot names and file paths. */
  name: string;
  /** The home region holds the writable primary; every other region a logical replica. */
  home: boolean;
}

export interface SandboxConfig {
  regions: RegionSpec[];
  /** Where databases, broker logs and lock files live; gitignored. */
  stateDir: string;
  /** First port of the sandbox's range; see ports.ts for the layout. */
  portBase: number;
  /** Address every service binds to in 'shared' mode. */
  host: string;
  /** 'netns' puts each region in its own network namespace (root only); see network.ts. */
  network: 'shared' | 'netns';
  /** Partitions of each regional invalidation topic. */
  partitions: number;
  /** Kafka broker heap, e.g. "384m". */
  kafkaHeap: string;
  /** PostgreSQL major of every region. */
  postgres: PostgresVersion;
  replication: ReplicationMode;
}

export const DEFAULT_REGIONS = ['us-east', 'eu-west', 'ap-south'] as const;
export const DEFAULT_PORT_BASE = 25400;

const HEAP = /^[1-9][0-9]*[mg]$/;

export interface SandboxConfigInput {
  regions?: unknown;
  home?: unknown;
  stateDir?: unknown;
  portBase?: unknown;
  host?: unknown;
  network?: unknown;
  partitions?: unknown;
  kafkaHeap?: unknown;
  postgres?: unknown;
  replication?: unknown;
}

/**
 * Validates raw input (CLI flags, environment, test code) once, at the edge. Every
 * failure names the field so the operator can fix it without reading code.
 */
export function resolveSandboxConfig(input: SandboxConfigInput, cwd = process.cwd()): SandboxConfig {
  const names = parseRegionNames(input.regions ?? [...DEFAULT_REGIONS]);
  const home = input.home ?? names[0];
  if (typeof home !== 'string' || !names.includes(home)) {
    throw new ConfigError('home', `must be one of the regions (${names.join(', ')}), got ${JSON.stringify(home)}`);
  }
  const stateDir = input.stateDir ?? '.fabric/sandbox';
  if (typeof stateDir !== 'string' || stateDir.trim() === '') {
    throw new ConfigError('stateDir', 'must be a non-empty path');
  }
  const portBase = parseInteger('portBase', input.portBase ?? DEFAULT_PORT_BASE, 1024, 65535);
  const host = input.host ?? '127.0.0.1';
  if (typeof host !== 'string' || !/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$|^\d{1,3}(\.\d{1,3}){3}$/.test(host)) {
    throw new ConfigError('host', `must be an IPv4 address, got ${JSON.stringify(host)}`);
  }
  const network = input.network ?? 'shared';
  if (network !== 'shared' && network !== 'netns') {
    throw new ConfigError('network', `must be "shared" or "netns", got ${JSON.stringify(network)}`);
  }
  const partitions = parseInteger('partitions', input.partitions ?? 3, 1, 64);
  const kafkaHeap = input.kafkaHeap ?? '384m';
  if (typeof kafkaHeap !== 'string' || !HEAP.test(kafkaHeap)) {
    throw new ConfigError('kafkaHeap', `must look like 384m or 1g, got ${JSON.stringify(kafkaHeap)}`);
  }
  const { postgres, replication } = parseTopology(input);
  return {
    regions: names.map((name) => ({ name, home: name === home })),
    stateDir: path.resolve(cwd, stateDir),
    portBase,
    host,
    network,
    partitions,
    kafkaHeap,
    postgres,
    replication,
  };
}

function parseTopology(input: SandboxConfigInput): { postgres: PostgresVersion; replication: ReplicationMode } {
  const postgres = parseInteger('postgres', input.postgres ?? DEFAULT_TOPOLOGY.postgres, 0, 99);
  if (!(POSTGRES_VERSIONS as readonly number[]).includes(postgres)) {
    throw new ConfigError('postgres', `must be one of ${POSTGRES_VERSIONS.join(', ')}, got ${postgres}`);
  }
  const replication = input.replication ?? DEFAULT_TOPOLOGY.replication;
  if (!(REPLICATION_MODES as readonly unknown[]).includes(replication)) {
    throw new ConfigError('replication', `must be "physical" or "logical", got ${JSON.stringify(replication)}`);
  }
  if (replication === 'physical' && postgres < FIRST_STANDBY_DECODING_VERSION) {
    throw new ConfigError(
      'replication',
      `physical standbys need PostgreSQL ${FIRST_STANDBY_DECODING_VERSION} or newer: PostgreSQL ${postgres} cannot decode WAL on a standby, so a region's reader would have nothing to read. Use --replication logical with --postgres ${postgres}, or --postgres 16, 17 or 18`,
    );
  }
  return { postgres: postgres as PostgresVersion, replication: replication as ReplicationMode };
}

function parseRegionNames(raw: unknown): string[] {
  const list = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()) : raw;
  if (!Array.isArray(list) || list.length === 0) {
    throw new ConfigError('regions', 'must list at least one region, e.g. us-east,eu-west');
  }
  const seen = new Set<string>();
  list.forEach((name, i) => {
    const badName = regionNameError(name);
    if (badName) throw new ConfigError(`regions[${i}]`, badName);
    if (seen.has(name)) throw new ConfigError(`regions[${i}]`, `${name} is listed twice`);
    seen.add(name);
  });
  if (list.length > 8) throw new ConfigError('regions', `at most 8 regions fit one machine, got ${list.length}`);
  return list as string[];
}

function parseInteger(field: string, raw: unknown, min: number, max: number): number {
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(field, `must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** Identifier-safe form of a region name for PostgreSQL objects (slots, subscriptions). */
export { regionIdent } from '@fabric/contracts';
