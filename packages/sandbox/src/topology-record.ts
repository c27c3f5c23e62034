import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ReplicationMode, SandboxConfig } from './config.js';
import { ConfigError } from './errors.js';
import type { PostgresVersion } from './postgres-versions.js';

/**
 * A state directory's databases are bound to the PostgreSQL major that made them and to
 * the replication mode (a standby's data directory is a copy of the primary; a logical
 * replica's is its own). Starting it with other settings would fail deep inside
 * PostgreSQL, so the choice made at first start is recorded and checked.
 */
const FILE = 'topology.json';

interface TopologyRecord {
  postgres: PostgresVersion;
  replication: ReplicationMode;
  /** Which region holds the primary: set at first start, moved by a failover. */
  home?: string;
}

export function checkTopology(config: SandboxConfig): void {
  const recorded = readRecord(config.stateDir);
  if (!recorded) return;
  const fresh = `or remove ${config.stateDir} to start afresh`;
  if (recorded.postgres !== config.postgres) {
    throw new ConfigError(
      'postgres',
      `${config.stateDir} holds PostgreSQL ${recorded.postgres} databases; start with --postgres ${recorded.postgres}, ${fresh}`,
    );
  }
  if (recorded.replication !== config.replication) {
    throw new ConfigError(
      'replication',
      `${config.stateDir} was made with ${recorded.replication} replication; start with --replication ${recorded.replication}, ${fresh}`,
    );
  }
}

function readRecord(stateDir: string): TopologyRecord | undefined {
  const file = path.join(stateDir, FILE);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as TopologyRecord;
  // State made before the record existed: PostgreSQL 15 with logical replicas, the only topology then.
  const root = path.join(stateDir, 'postgres');
  const dirs = existsSync(root) ? readdirSync(root) : [];
  const versionFile = dirs.map((d) => path.join(root, d, 'PG_VERSION')).find((f) => existsSync(f));
  if (!versionFile) return undefined;
  return { postgres: Number(readFileSync(versionFile, 'utf8').trim()) as PostgresVersion, replication: 'logical' };
}

/**
 * The home region a failover moved the primary to outranks the configuration's default:
 * the databases are laid out around it (the others are its standbys), and starting the
 * old home as a primary again would split the fabric in two.
 */
export function recordedHome(config: SandboxConfig): string | undefined {
  const home = readRecord(config.stateDir)?.home;
  return home && config.regions.some((r) => r.name === home) ? home : undefined;
}

export function withHome(config: SandboxConfig, home: string): SandboxConfig {
  return { ...config, regions: config.regions.map((r) => ({ ...r, home: r.name === home })) };
}

export function recordTopology(config: SandboxConfig): void {
  const record: TopologyRecord = {
    postgres: config.postgres,
    replication: config.replication,
    home: config.regions.find((r) => r.home)?.name,
  };
  writeFileSync(path.join(config.stateDir, FILE), `${JSON.stringify(record, null, 2)}\n`);
}
