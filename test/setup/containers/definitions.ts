import path from 'node:path';
import { type PortPlan, planPorts, type RegionPorts } from '@fabric/sandbox';
import {
  type ComposeFile,
  type ComposeService,
  loadCompose,
  oneShotServices,
  ROOT,
  serviceEnv,
} from '../../deploy/compose-file.js';
import { ContainerBackendError } from './errors.js';

/**
 * The containers backend runs the services of docker-compose.regions.yml, read from that
 * file (merge keys resolved, ${...} interpolated as Compose does), so there is no second copy
 * to drift: image, entrypoint, command, environment, init scripts and health checks are the
 * file's. What differs, and why:
 *  - the fabric's own workers (services built from this repository: readers, invalidators,
 *    the control plane) are left out: the suites start their own, as host processes, exactly
 *    as they do beside the local sandbox;
 *  - host ports follow the sandbox's port plan from the test base instead of the file's 35400,
 *    so a compose stack and a test run can be up at once;
 *  - Kafka gets one more listener, advertised at its published host port, because the
 *    file's brokers advertise only their in-network name (KAFKA_HOST_LISTENER below);
 *  - named volumes are not mounted: every run starts empty, as the sandbox's does.
 */
export interface ServiceDefinition {
  /** The compose service name, e.g. `eu-west-postgres`: its name on every network it joins. */
  service: string;
  region: string;
  /** `postgres`, `kafka`, `kafka-topics`, `redis`: the service name after the region. */
  role: string;
  image: string;
  entrypoint?: string[];
  command?: string[];
  environment: Record<string, string>;
  /** Compose network keys (`eu-west`, `interregion`), in the file's order. */
  networks: string[];
  /** The file's bind mounts (`./deploy/...`), with absolute sources. */
  binds: Array<{ source: string; target: string; mode: 'ro' | 'rw' }>;
  /** Container port -> host port on 127.0.0.1. */
  ports: Array<{ container: number; host: number }>;
  healthcheck?: HealthCheck;
  /** Runs to completion; what depends on it waits for exit code 0. */
  oneShot: boolean;
  dependsOn: string[];
}

export interface HealthCheck {
  /** As `docker exec` runs it: CMD's arguments, or CMD-SHELL's line through /bin/sh -c. */
  command: string[];
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
}

export interface ComposeTopology {
  definitions: ServiceDefinition[];
  /** The sandbox's port plan for the file's regions, in the file's order. */
  plan: PortPlan;
  regions: Array<{ name: string; home: boolean }>;
  /** PostgreSQL major from the image tag (`postgres:17`). */
  postgres: number;
  replication: string;
  database: { name: string; user: string; password: string };
}

/** The container port of the broker's extra listener for host clients. */
export const KAFKA_HOST_LISTENER_PORT = 9094;

/**
 * Reads the regions file with the process environment (FABRIC_POSTGRES_PASSWORD and the
 * like apply, as they would to `docker compose`).
 */
export function loadTopology(portBase: number, env: NodeJS.ProcessEnv = process.env): ComposeTopology {
  // Only the control plane's inline config needs the token hash, and the control plane is
  // not run here; without a value the file would not interpolate at all.
  const compose = loadCompose({ ...env, FABRIC_TOKEN_SHA256: env.FABRIC_TOKEN_SHA256 ?? 'unused-by-the-tests' });
  return topologyOf(compose, portBase);
}

export function topologyOf(compose: ComposeFile, portBase: number): ComposeTopology {
  const regionNames = Object.keys(compose.services)
    .filter((name) => name.endsWith('-postgres'))
    .map((name) => name.slice(0, -'-postgres'.length));
  const plan = planPorts(regionNames, portBase);
  const regions = regionNames.map((name) => ({
    name,
    // A standby's database is told where its primary is; the primary's is not.
    home: serviceEnv(compose.services[`${name}-postgres`]!).FABRIC_PRIMARY === undefined,
  }));
  if (regions.filter((r) => r.home).length !== 1) {
    throw new ContainerBackendError(
      `docker-compose.regions.yml: expected exactly one region without FABRIC_PRIMARY (the home), found ${regions.filter((r) => r.home).length}`,
    );
  }
  const oneShot = oneShotServices(compose);
  const definitions = Object.entries(compose.services)
    // Built from this repository: the fabric's own workers (see above).
    .filter(([, service]) => service.build === undefined)
    .map(([name, service]) => define(name, service, regionNames, plan, oneShot));
  const home = regions.find((r) => r.home)!;
  const primaryEnv = serviceEnv(compose.services[`${home.name}-postgres`]!);
  const image = compose.services[`${home.name}-postgres`]!.image ?? '';
  const postgres = Number(/^(?:.*\/)?postgres:(\d+)/.exec(image)?.[1]);
  if (!Number.isInteger(postgres)) {
    throw new ContainerBackendError(
      `docker-compose.regions.yml: ${home.name}-postgres image "${image}" names no major`,
    );
  }
  const reader = Object.entries(compose.services).find(([name]) => name.endsWith('-cdc-reader'))?.[1];
  return {
    definitions,
    plan,
    regions,
    postgres,
    replication: serviceEnv(reader ?? {}).FABRIC_REPLICATION ?? 'physical',
    database: {
      name: primaryEnv.POSTGRES_DB ?? 'postgres',
      user: primaryEnv.POSTGRES_USER ?? 'postgres',
      password: primaryEnv.POSTGRES_PASSWORD ?? '',
    },
  };
}

function define(
  name: string,
  service: ComposeService,
  regionNames: string[],
  plan: PortPlan,
  oneShot: Set<string>,
): ServiceDefinition {
  const region = regionNames.find((r) => name.startsWith(`${r}-`));
  if (!region) throw new ContainerBackendError(`docker-compose.regions.yml: service ${name} belongs to no region`);
  if (!service.image) throw new ContainerBackendError(`docker-compose.regions.yml: service ${name} has no image`);
  const role = name.slice(region.length + 1);
  const ports = plan.regions[region]!;
  const published = (service.ports ?? []).map((spec) => ({
    container: containerPort(name, spec),
    host: hostPort(name, role, ports),
  }));
  let environment = serviceEnv(service);
  if (role === 'kafka') {
    environment = withHostListener(environment, ports.kafka);
    published.push({ container: KAFKA_HOST_LISTENER_PORT, host: ports.kafka });
  }
  return {
    service: name,
    region,
    role,
    image: service.image,
    ...(service.entrypoint ? { entrypoint: service.entrypoint } : {}),
    ...(service.command ? { command: service.command } : {}),
    environment,
    networks: service.networks ?? [],
    binds: (service.volumes ?? []).filter((v) => v.startsWith('./')).map(bindMount),
    ports: published,
    ...(service.healthcheck ? { healthcheck: healthCheck(name, service.healthcheck) } : {}),
    oneShot: oneShot.has(name),
    dependsOn: Object.keys(service.depends_on ?? {}),
  };
}

/**
 * The file's brokers advertise `<region>-kafka:9092`, a name only their network resolves.
 * Host clients get a listener of their own, advertised at the published port; in-network
 * clients (the topics job, the health check) keep PLAINTEXT.
 */
export function withHostListener(env: Record<string, string>, hostPort: number): Record<string, string> {
  const need = ['KAFKA_LISTENERS', 'KAFKA_ADVERTISED_LISTENERS', 'KAFKA_LISTENER_SECURITY_PROTOCOL_MAP'];
  for (const key of need) {
    if (!env[key]) throw new ContainerBackendError(`docker-compose.regions.yml: a Kafka service has no ${key}`);
  }
  return {
    ...env,
    KAFKA_LISTENERS: `${env.KAFKA_LISTENERS},HOST://:${KAFKA_HOST_LISTENER_PORT}`,
    KAFKA_ADVERTISED_LISTENERS: `${env.KAFKA_ADVERTISED_LISTENERS},HOST://127.0.0.1:${hostPort}`,
    KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: `${env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP},HOST:PLAINTEXT`,
  };
}

/** `127.0.0.1:35400:5432` -> 5432. */
function containerPort(service: string, spec: string): number {
  const port = Number(spec.split(':').at(-1)?.split('/')[0]);
  if (!Number.isInteger(port)) throw new ContainerBackendError(`docker-compose.regions.yml: ${service} port "${spec}"`);
  return port;
}

/** The sandbox's port for the role (PostgreSQL +0, Redis +3 of the region's block). */
function hostPort(service: string, role: string, ports: RegionPorts): number {
  const port = ports[role as keyof RegionPorts];
  if (port === undefined) {
    throw new ContainerBackendError(
      `docker-compose.regions.yml: ${service} publishes a port, but the port plan has none for "${role}"`,
    );
  }
  return port;
}

function bindMount(volume: string): ServiceDefinition['binds'][number] {
  const [source, target, mode] = volume.split(':');
  return { source: path.resolve(ROOT, source!), target: target!, mode: mode === 'ro' ? 'ro' : 'rw' };
}

interface ComposeHealthCheck {
  test?: string[];
  interval?: unknown;
  timeout?: unknown;
  retries?: unknown;
  start_period?: unknown;
}

function healthCheck(service: string, raw: ComposeHealthCheck): HealthCheck {
  const [kind, ...args] = raw.test ?? [];
  const command = kind === 'CMD' ? args : kind === 'CMD-SHELL' ? ['/bin/sh', '-c', args.join(' ')] : undefined;
  if (!command) throw new ContainerBackendError(`docker-compose.regions.yml: ${service} healthcheck test "${kind}"`);
  // Compose's defaults where the file says nothing.
  return {
    command,
    intervalMs: duration(raw.interval ?? '30s'),
    timeoutMs: duration(raw.timeout ?? '30s'),
    retries: Number(raw.retries ?? 3),
    startPeriodMs: duration(raw.start_period ?? '0s'),
  };
}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** A Compose duration (`5s`, `1m30s`, `500ms`) in milliseconds. */
export function duration(value: unknown): number {
  const text = String(value);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new ContainerBackendError(`docker-compose.regions.yml: "${text}" is not a duration`);
  }
  return parts.reduce((ms, [, n, unit]) => ms + Number(n) * UNITS[unit!]!, 0);
}
