import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { type Binaries, findBinaries } from './binaries.js';
import type { SandboxConfig } from './config.js';
import {
  describeEndpoints,
  homeRegion,
  type RegionEndpoints,
  type SandboxEndpoints,
  type SandboxState,
  STATE_FILE,
} from './endpoints.js';
import { type FailoverReport, type FailoverStep, failover } from './failover.js';
import { startKafka } from './kafka.js';
import { SandboxLock } from './lock.js';
import { type NetworkPlan, planNetwork, setUpNetwork, tearDownNetwork } from './network.js';
import { assertPortsFree, type PortPlan, planPorts } from './ports.js';
import { type PostgresOptions, startPostgres } from './postgres.js';
import { reachablePgBin } from './postgres-versions.js';
import { startRedis } from './redis.js';
import {
  type DatabaseEndpoint,
  ensurePublication,
  ensureSchema,
  ensureSubscription,
  waitForSubscriptionSync,
} from './replication.js';
import { ownedDir, postgresUser, type RunAs, reachableBy } from './run-as.js';
import { ServiceProcess, type ServiceSpec } from './service-process.js';
import { cloneStandby, ensurePhysicalSlot, isStandbyDataDir, waitForStandby } from './standby.js';
import { Supervisor, type SupervisorFiles } from './supervisor.js';
import { checkTopology, recordedHome, recordTopology, withHome } from './topology-record.js';

export type ServiceKind = 'postgres' | 'kafka' | 'redis';

export interface SandboxDeps {
  logger: Logger;
  /** Directory of Kafka jars; defaults to the repository's .fabric/kafka-libs. */
  kafkaLibs?: string;
  binaries?: Binaries;
}

interface Entry {
  region: string;
  kind: ServiceKind;
  supervisor: Supervisor;
}

/**
 * A running local multi-region sandbox. Services are listed in start order and stopped
 * in reverse; workers added later (readers, invalidators, control plane) stop first.
 */
export class Sandbox {
  private readonly entries: Entry[] = [];
  private readonly workers: Array<{ region: string; kind: string; worker: Supervisor }> = [];
  private readonly network: NetworkPlan;
  private stopping: Promise<void> | undefined;
  /** How each region's PostgreSQL is started; standbys are started once the primary can be copied. */
  private readonly postgresOptions = new Map<string, PostgresOptions>();

  private constructor(
    /** Replaced, not edited, when a failover moves the home region. */
    public config: SandboxConfig,
    public endpoints: SandboxEndpoints,
    private readonly lock: SandboxLock,
    private readonly logger: Logger,
    private readonly binaries: Binaries,
  ) {
    this.network = planNetwork(config);
  }

  static async start(given: SandboxConfig, deps: SandboxDeps): Promise<Sandbox> {
    const { logger } = deps;
    let config = given;
    const binaries = deps.binaries ?? findBinaries(deps.kafkaLibs ?? defaultKafkaLibs(), process.env, config.postgres);
    mkdirSync(config.stateDir, { recursive: true });
    const lock = SandboxLock.acquire(config.stateDir);
    try {
      checkTopology(config);
      const home = recordedHome(config);
      if (home && !config.regions.find((r) => r.name === home)?.home) {
        logger.warn({ home }, `${home} is the home region since a failover (recorded in ${config.stateDir})`);
        config = withHome(config, home);
      }
    } catch (err) {
      lock.release();
      throw err;
    }
    const sandbox = new Sandbox(config, describeEndpoints(config), lock, logger, binaries);
    try {
      const plan = planPorts(
        config.regions.map((r) => r.name),
        config.portBase,
      );
      // Namespaces are new and empty; only the shared address can have a port taken.
      if (config.network === 'shared') await assertPortsFree(plan, config.host);
      else setUpNetwork(sandbox.network, logger);
      await sandbox.startServices(binaries, plan);
      await sandbox.wireReplication();
      recordTopology(config);
      sandbox.writeState();
      return sandbox;
    } catch (err) {
      await sandbox.stop();
      throw err;
    }
  }

  private async startServices(bin: Binaries, plan: PortPlan): Promise<void> {
    const runAs = postgresUser();
    const pgRoot = postgresRoot(this.config.stateDir, runAs, this.logger);
    const pgBin = reachablePgBin(bin.pgBin, runAs);
    const physical = this.config.replication === 'physical';
    // allSettled, not all: when one region fails, the others' services must finish
    // starting (and be tracked) before the caller stops them, or they would be missed.
    const results = await Promise.allSettled(
      this.endpoints.regions.map(async (region) => {
        const dir = path.join(this.config.stateDir, region.region);
        mkdirSync(path.join(dir, 'logs'), { recursive: true });
        const log = (name: string) => path.join(dir, 'logs', `${name}.log`);
        const common = {
          region: region.region,
          host: region.postgres.host,
          netns: region.netns,
          setpriv: bin.setpriv,
          logger: this.logger,
        };
        const postgres: PostgresOptions = {
          ...common,
          port: region.postgres.port,
          dataDir: path.join(pgRoot, region.region),
          logFile: log('postgres'),
          pgBin,
          runAs,
        };
        this.postgresOptions.set(region.region, postgres);
        // A physical standby is a copy of the running primary: wireReplication starts it.
        const startsNow = region.home || !physical || isStandbyDataDir(postgres.dataDir);
        // Kafka is the slowest to boot; the others start beside it.
        const started = await Promise.allSettled([
          startsNow ? this.track(region.region, 'postgres', () => startPostgres(postgres)) : Promise.resolve(),
          this.track(region.region, 'redis', () =>
            startRedis({
              ...common,
              port: region.redis.port,
              dir: path.join(dir, 'redis'),
              logFile: log('redis'),
              redisServer: bin.redisServer,
            }),
          ),
          this.track(region.region, 'kafka', () =>
            startKafka({
              ...common,
              port: Number(region.kafka.brokers[0]!.split(':')[1]),
              controllerPort: plan.regions[region.region]!.kafkaController,
              dir: path.join(dir, 'kafka'),
              logFile: log('kafka'),
              java: bin.java,
              kafkaLibs: bin.kafkaLibs,
              heap: this.config.kafkaHeap,
              partitions: this.config.partitions,
            }),
          ),
        ]);
        const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failure) throw failure.reason;
        this.logger.info({ region: region.region }, 'region services ready');
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Starts a service under a supervisor: restarted if it dies, parked while its hold file exists. */
  private async track(region: string, kind: ServiceKind, launch: () => Promise<ServiceProcess>): Promise<void> {
    const started = Date.now();
    const supervisor = new Supervisor(`${region} ${kind}`, launch, this.runFiles(region, kind), this.logger);
    await supervisor.start();
    this.entries.push({ region, kind, supervisor });
    this.logger.debug({ region, service: kind, pid: supervisor.pid, ms: Date.now() - started }, 'service ready');
  }

  /** <state>/<region>/run/<kind>.pid and .hold: the handles chaos scripts use from outside. */
  private runFiles(region: string, kind: string): SupervisorFiles {
    const dir = path.join(this.config.stateDir, region, 'run');
    return { pidFile: path.join(dir, `${kind}.pid`), holdFile: path.join(dir, `${kind}.hold`) };
  }

  private async wireReplication(): Promise<void> {
    if (this.config.replication === 'physical') return this.wireStandbys();
    const home = homeRegion(this.endpoints);
    await ensureSchema(db(home));
    await ensurePublication(db(home));
    await Promise.all(
      this.endpoints.regions
        .filter((r) => !r.home)
        .map(async (r) => {
          await ensureSchema(db(r));
          await ensureSubscription(db(r), db(home));
          await waitForSubscriptionSync(db(r), this.logger);
        }),
    );
  }

  /**
   * Physical mode: the schema is made at the primary only (a standby is read-only and gets
   * it by replication); each standby region gets a physical slot on the primary and, on
   * first start, a copy of the primary's data directory.
   */
  private async wireStandbys(): Promise<void> {
    const home = homeRegion(this.endpoints);
    await ensureSchema(db(home));
    const primaryOptions = this.postgresOptions.get(home.region)!;
    const standbys = this.endpoints.regions.filter((r) => !r.home);
    // One backup at a time: each copy is consistent on its own, and two would only compete for the disk.
    for (const r of standbys) {
      await ensurePhysicalSlot(db(home), r.region);
      const options = this.postgresOptions.get(r.region)!;
      if (!this.service(r.region, 'postgres')) {
        if (!isStandbyDataDir(options.dataDir)) {
          this.logger.info({ region: r.region }, 'making the standby from a base backup of the primary');
          await cloneStandby({
            region: r.region,
            primary: db(home),
            upstream: { host: home.postgres.host, port: home.postgres.port },
            primaryDataDir: primaryOptions.dataDir,
            dataDir: options.dataDir,
            runAs: options.runAs,
          });
        }
        await this.track(r.region, 'postgres', () => startPostgres(options));
      }
    }
    await Promise.all(standbys.map((r) => waitForStandby(db(r), db(home), this.logger)));
  }

  private writeState(): void {
    const state: SandboxState = { pid: process.pid, readyAt: new Date().toISOString(), endpoints: this.endpoints };
    writeFileSync(path.join(this.config.stateDir, STATE_FILE), JSON.stringify(state, null, 2));
  }

  /**
   * Moves the home region to `to` (see failover.ts). The workers are the caller's: it
   * restarts the readers (the heartbeat moves with --home) and the control plane.
   */
  failover(to: string, onStep?: (step: FailoverStep) => void): Promise<FailoverReport> {
    return failover(
      {
        endpoints: this.endpoints,
        postgresOptions: this.postgresOptions,
        postgres: (region) => {
          const supervisor = this.service(region, 'postgres');
          if (!supervisor) throw new Error(`no PostgreSQL supervised in ${region}`);
          return supervisor;
        },
        setHome: (region) => {
          this.config = withHome(this.config, region);
          this.endpoints = describeEndpoints(this.config);
          recordTopology(this.config);
          this.writeState();
        },
        logger: this.logger,
      },
      to,
      onStep,
    );
  }

  /** Stops and forgets the workers of one kind (to start them again with other arguments). */
  async removeWorkers(kind: string): Promise<void> {
    const gone = this.workers.filter((w) => w.kind === kind);
    await Promise.all(gone.map((w) => w.worker.stop()));
    for (const w of gone) this.workers.splice(this.workers.indexOf(w), 1);
  }

  /**
   * Starts a supervised worker (reader, invalidator, control plane); workers stop first.
   * It runs in the region's namespace unless `global` (the control plane serves every
   * region and stays reachable from the host).
   */
  startWorker(
    region: string,
    kind: string,
    spec: Omit<ServiceSpec, 'setpriv' | 'logFile' | 'name' | 'netns'>,
    opts: { global?: boolean } = {},
  ): Supervisor {
    const full: ServiceSpec = {
      ...spec,
      name: `${region} ${kind}`,
      setpriv: this.binaries.setpriv,
      logFile: path.join(this.config.stateDir, region, 'logs', `${kind}.log`),
      netns: opts.global ? undefined : this.network.regions[region]?.netns,
    };
    const worker = new Supervisor(
      full.name,
      async () => ServiceProcess.start(full, this.logger),
      this.runFiles(region, kind),
      this.logger,
    );
    void worker.start().catch((err: unknown) => this.logger.error({ err, worker: full.name }, 'worker did not start'));
    this.workers.push({ region, kind, worker });
    return worker;
  }

  worker(region: string, kind: string): Supervisor | undefined {
    return this.workers.find((w) => w.region === region && w.kind === kind)?.worker;
  }

  service(region: string, kind: ServiceKind): Supervisor | undefined {
    return this.entries.find((e) => e.region === region && e.kind === kind)?.supervisor;
  }

  services(): ReadonlyArray<Readonly<Entry>> {
    return this.entries;
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private async stopAll(): Promise<void> {
    // Workers first, then brokers and caches, then replicas, then the primary last so no
    // subscription logs errors against a primary that is already gone.
    const isPrimary = (e: Entry) => e.kind === 'postgres' && e.region === homeRegion(this.endpoints).region;
    await Promise.all(this.workers.map((w) => w.worker.stop()));
    const waves: Array<(e: Entry) => boolean> = [
      (e) => e.kind === 'kafka' || e.kind === 'redis',
      (e) => e.kind === 'postgres' && !isPrimary(e),
      isPrimary,
    ];
    for (const inWave of waves) {
      await Promise.all(this.entries.filter(inWave).map((e) => this.stopEntry(e)));
    }
    tearDownNetwork(this.network);
    rmSync(path.join(this.config.stateDir, STATE_FILE), { force: true });
    this.lock.release();
  }

  private async stopEntry(e: Entry): Promise<void> {
    await e.supervisor.stop(20_000);
    this.logger.debug({ region: e.region, service: e.kind }, 'stopped');
  }
}

function db(r: RegionEndpoints): DatabaseEndpoint {
  return { region: r.region, host: r.postgres.host, port: r.postgres.port };
}

/** The repository's shared jar folder, so every state directory reuses one download. */
export function defaultKafkaLibs(): string {
  return (
    process.env.FABRIC_KAFKA_LIBS ?? path.resolve(new URL('.', import.meta.url).pathname, '../../../.fabric/kafka-libs')
  );
}

/**
 * PostgreSQL data lives in the state directory unless the postgres user cannot reach it
 * (a checkout under /root); then in /var/tmp, in a folder named after the state dir.
 */
function postgresRoot(stateDir: string, runAs: RunAs | undefined, logger: Logger): string {
  const inState = path.join(stateDir, 'postgres');
  if (reachableBy(stateDir, runAs)) return ownedDir(inState, runAs);
  const digest = createHash('sha1').update(stateDir).digest('hex').slice(0, 10);
  const fallback = path.join('/var/tmp', `fabric-postgres-${digest}`);
  logger.warn(
    { stateDir, dataDir: fallback },
    'postgres user cannot reach the state directory; keeping PostgreSQL data in /var/tmp',
  );
  return ownedDir(fallback, runAs);
}
