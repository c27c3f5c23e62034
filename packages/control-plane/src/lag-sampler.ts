import type { MessageInitShape } from '@bufbuild/protobuf';
import { type RegionLagSchema, RegionStatus } from '@fabric/proto';
import type { Logger } from 'pino';
import type { RegionConfig } from './config.js';
import { type Component, type RegionProbes, regionLag } from './lag.js';
import { type ControlPlaneMetrics, setOrForget } from './metrics.js';
import { deadLetterOffsets, probeTopicOffsets } from './probes/kafka.js';
import type { Observed } from './probes/observed.js';
import type { DatabaseState } from './probes/postgres.js';
import { fetchWorkerStatus, readInvalidatorStatus, readReaderStatus } from './probes/worker-status.js';
import type { RegionConnection, RegionConnections } from './region-connections.js';
import { DEFAULT_HEALTH_THRESHOLDS, type HealthThresholds } from './region-thresholds.js';

export type RegionLag = MessageInitShape<typeof RegionLagSchema>;

export interface LagSnapshot {
  at: Date;
  regions: RegionLag[];
}

/**
 * Concurrent callers (many WatchLag streams, GetLag) share a region's round of probes
 * while it runs and for this long after, so watchers do not multiply the load on
 * databases and brokers.
 */
export const SNAPSHOT_MAX_AGE_MS = 200;

/** A probe round in flight (finishedAt undefined) or finished at some time. */
interface Round<T> {
  finishedAt: number | undefined;
  result: Promise<T>;
}

/**
 * Probes regions and turns the answers into lag reports. Each region is probed on its
 * own, so one region that does not answer (and costs the full probe timeout) does not
 * slow down the report of another.
 */
export class LagSampler {
  private readonly rounds = new Map<string, Round<RegionLag>>();
  private primaryRound: Round<Observed<DatabaseState>> | undefined;
  /** When each region's component last answered, healthy or not. */
  private readonly seen = new Map<string, Date>();
  private readonly home: RegionConfig;

  constructor(
    private readonly regions: readonly RegionConfig[],
    private readonly connections: RegionConnections,
    private readonly timeoutMs: number,
    private readonly metrics: ControlPlaneMetrics,
    private readonly logger: Logger,
    private readonly thresholds: HealthThresholds = DEFAULT_HEALTH_THRESHOLDS,
  ) {
    this.home = regions.find((r) => r.home)!;
  }

  async snapshot(regions: readonly RegionConfig[]): Promise<LagSnapshot> {
    const lags = await Promise.all(
      regions.map((r) =>
        this.shared(
          this.rounds.get(r.name),
          (round) => this.rounds.set(r.name, round),
          () => this.probeRegion(r),
        ),
      ),
    );
    return { at: new Date(), regions: lags };
  }

  private shared<T>(round: Round<T> | undefined, keep: (round: Round<T>) => void, probe: () => Promise<T>): Promise<T> {
    if (round && (round.finishedAt === undefined || Date.now() - round.finishedAt <= SNAPSHOT_MAX_AGE_MS))
      return round.result;
    const fresh: Round<T> = { finishedAt: undefined, result: probe().finally(() => (fresh.finishedAt = Date.now())) };
    keep(fresh);
    return fresh.result;
  }

  /** The primary answers for the home region and for every replica's replication lag. */
  private primary(): Promise<Observed<DatabaseState>> {
    const replicaSlots = this.regions.flatMap((r) =>
      [r.subscriptionSlot, r.standbySlot].filter((s) => s !== undefined),
    );
    return this.shared(
      this.primaryRound,
      (round) => (this.primaryRound = round),
      () => this.connections.get(this.home.name).database.probe([this.home.cdcSlot, ...replicaSlots]),
    );
  }

  private async probeRegion(region: RegionConfig): Promise<RegionLag> {
    const connection = this.connections.get(region.name);
    const [primary, database, kafka, deadLetters, reader, invalidator] = await Promise.all([
      this.primary(),
      region.home ? this.primary() : connection.database.probe([region.cdcSlot]),
      probeTopicOffsets(connection.kafka, region.topic, region.consumerGroup),
      this.pendingDeadLetters(connection),
      fetchWorkerStatus(region.readerStatusUrl, this.timeoutMs, readReaderStatus),
      fetchWorkerStatus(region.invalidatorStatusUrl, this.timeoutMs, readInvalidatorStatus),
    ]);
    const probes: RegionProbes = { database, primary, kafka, deadLetters, reader, invalidator };
    const now = new Date();
    this.remember(region, probes, now);
    const lag = regionLag(region, probes, (c) => this.lastSeen(region, c), now, this.thresholds);
    this.export(lag);
    return lag;
  }

  private async pendingDeadLetters(connection: RegionConnection): Promise<bigint | undefined> {
    try {
      const [offsets] = await Promise.all([
        deadLetterOffsets(connection.kafka, connection.config.deadLetterTopic),
        connection.ledger.refresh(),
      ]);
      return connection.ledger.pending(offsets);
    } catch (err) {
      this.logger.debug({ err, region: connection.config.name }, 'DLQ depth unknown');
      return undefined;
    }
  }

  private remember(region: RegionConfig, probes: RegionProbes, now: Date): void {
    const direct: Array<[Component, Observed<unknown>]> = [
      ['postgres', probes.database],
      ['kafka', probes.kafka],
      ['cdc-reader', probes.reader],
      ['invalidator', probes.invalidator],
    ];
    for (const [component, o] of direct) {
      if (o.status !== 'healthy') this.metrics.probeFailures.inc({ region: region.name, component });
      if (o.status !== 'unreachable') this.seen.set(`${region.name}/${component}`, now);
    }
    if (probes.primary.status !== 'unreachable') this.seen.set(`${this.home.name}/postgres`, now);
  }

  /**
   * Replication and heartbeat are read from a database, continuity from the invalidator,
   * so they were seen when that answered.
   */
  private lastSeen(region: RegionConfig, component: Component): Date | undefined {
    if (component === 'replication') return this.seen.get(`${this.home.name}/postgres`);
    if (component === 'heartbeat') return this.seen.get(`${region.name}/postgres`);
    if (component === 'continuity') return this.seen.get(`${region.name}/invalidator`);
    return this.seen.get(`${region.name}/${component}`);
  }

  private export(lag: RegionLag): void {
    const region = lag.region!;
    setOrForget(this.metrics.freshness, region, lag.freshnessSeconds);
    setOrForget(this.metrics.deadLetters, region, lag.deadLetters);
    setOrForget(this.metrics.kafkaLag, region, lag.kafkaLagTotal);
    this.metrics.regionHealthy.set({ region }, lag.status === RegionStatus.HEALTHY ? 1 : 0);
  }
}
