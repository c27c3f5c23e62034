import { readFileSync } from 'node:fs';
import path from 'node:path';
import { deadLetterTopic, invalidationTopic } from '@fabric/contracts';
import type { ReplicationMode, SandboxConfig } from './config.js';
import { DATABASE } from './demo-schema.js';
import { planNetwork } from './network.js';
import { isAlive } from './pid.js';
import { planPorts } from './ports.js';
import type { PostgresVersion } from './postgres-versions.js';

export interface RegionEndpoints {
  region: string;
  home: boolean;
  postgres: { host: string; port: number; database: string; url: string };
  kafka: { brokers: string[]; topic: string; deadLetterTopic: string };
  redis: { host: string; port: number; url: string };
  metrics: { reader: number; invalidator: number };
  /** netns mode: the namespace the region's services and workers run in. */
  netns?: string;
}

export interface SandboxEndpoints {
  stateDir: string;
  /** PostgreSQL major and how the other regions follow the primary. */
  postgres: PostgresVersion;
  replication: ReplicationMode;
  network: { mode: 'shared' | 'netns'; bridge?: string; gateway?: string };
  regions: RegionEndpoints[];
  controlPlane: { host: string; port: number; metricsPort: number };
}

/** Where everything listens, derived from the configuration alone. */
export function describeEndpoints(config: SandboxConfig): SandboxEndpoints {
  const plan = planPorts(
    config.regions.map((r) => r.name),
    config.portBase,
  );
  const network = planNetwork(config);
  // Global components (the control plane) stay in the root namespace, on the shared host.
  const host = config.host;
  return {
    stateDir: config.stateDir,
    postgres: config.postgres,
    replication: config.replication,
    network: { mode: network.mode, bridge: network.bridge, gateway: network.gateway },
    regions: config.regions.map(({ name, home }) => {
      const ports = plan.regions[name]!;
      const { host: at, netns } = network.regions[name]!;
      return {
        region: name,
        home,
        postgres: {
          host: at,
          port: ports.postgres,
          database: DATABASE,
          url: `postgres://postgres@${at}:${ports.postgres}/${DATABASE}`,
        },
        kafka: {
          brokers: [`${at}:${ports.kafka}`],
          topic: invalidationTopic(name),
          deadLetterTopic: deadLetterTopic(invalidationTopic(name)),
        },
        redis: { host: at, port: ports.redis, url: `redis://${at}:${ports.redis}` },
        metrics: { reader: ports.readerMetrics, invalidator: ports.invalidatorMetrics },
        ...(netns ? { netns } : {}),
      };
    }),
    controlPlane: { host, port: plan.controlPlane, metricsPort: plan.controlPlaneMetrics },
  };
}

export const STATE_FILE = 'sandbox.json';

export interface SandboxState {
  pid: number;
  readyAt: string;
  endpoints: SandboxEndpoints;
}

/**
 * What a running sandbox wrote once it was ready; undefined when none runs there,
 * including when the file outlived its owner (kill -9).
 */
export function readSandboxState(stateDir: string): SandboxState | undefined {
  let state: SandboxState;
  try {
    state = JSON.parse(readFileSync(path.join(stateDir, STATE_FILE), 'utf8')) as SandboxState;
  } catch {
    return undefined;
  }
  return isAlive(state.pid) ? state : undefined;
}

export function homeRegion(endpoints: SandboxEndpoints): RegionEndpoints {
  return endpoints.regions.find((r) => r.home)!;
}
