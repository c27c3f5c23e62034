import type { MessageInitShape } from '@bufbuild/protobuf';
import { HEARTBEAT_TABLE, type InvalidatorStatusReading, type ReaderStatusReading } from '@fabric/contracts';
import {
  type ComponentHealthSchema,
  ComponentStatus,
  type PartitionLagSchema,
  type RegionLagSchema,
  timestampFromDate,
} from '@fabric/proto';
import type { RegionConfig } from './config.js';
import type { Observed } from './probes/observed.js';
import type { DatabaseState } from './probes/postgres.js';
import { continuityHealth, regionContinuity } from './region-continuity.js';
import { regionHealth } from './region-health.js';
import { DEFAULT_HEALTH_THRESHOLDS, type HealthThresholds } from './region-thresholds.js';

export interface TopicOffsets {
  partition: number;
  start: bigint;
  end: bigint;
  /** What the invalidator group committed; undefined before its first commit. */
  committed: bigint | undefined;
}

/** Everything probed for one region at one moment. */
export interface RegionProbes {
  /** The region's own database. */
  database: Observed<DatabaseState>;
  /** The home region's database (the same observation for the home region). */
  primary: Observed<DatabaseState>;
  kafka: Observed<TopicOffsets[]>;
  /** Dead letters not yet replayed; undefined when the DLQ or its ledger could not be read. */
  deadLetters: bigint | undefined;
  reader: Observed<ReaderStatusReading>;
  invalidator: Observed<InvalidatorStatusReading>;
}

export type Component =
  | 'postgres'
  | 'kafka'
  | 'cdc-reader'
  | 'invalidator'
  | 'replication'
  | 'heartbeat'
  | 'continuity';

/**
 * The primary writes a heartbeat every second (by default); one this old means the home
 * reader stopped beating, and freshness everywhere stops being measurable.
 */
export const HEARTBEAT_STALE_SECONDS = 10;

type ComponentHealth = MessageInitShape<typeof ComponentHealthSchema> & {
  component: Component;
  status: ComponentStatus;
};

/**
 * A region's lag report from one round of probes. Every number comes from an answer;
 * what no component said stays unset, so "unknown" never reads as 0.
 */
export function regionLag(
  region: RegionConfig,
  probes: RegionProbes,
  lastSeen: (c: Component) => Date | undefined,
  now: Date,
  thresholds: HealthThresholds = DEFAULT_HEALTH_THRESHOLDS,
): MessageInitShape<typeof RegionLagSchema> {
  const db = observedValue(probes.database);
  const primary = observedValue(probes.primary);
  const reader = observedValue(probes.reader);
  const invalidator = observedValue(probes.invalidator);
  const kafka = observedValue(probes.kafka);
  const component = (name: Component, o: Observed<unknown>): ComponentHealth => health(name, o, lastSeen(name));

  const resyncing = continuityHealth(invalidator?.continuity);
  const components = [
    component('postgres', probes.database),
    component('kafka', probes.kafka),
    component('cdc-reader', probes.reader),
    component('invalidator', probes.invalidator),
    region.home
      ? component('heartbeat', heartbeatHealth(probes.database, now))
      : component('replication', replicationHealth(region, probes.primary)),
    ...(resyncing ? [component('continuity', resyncing)] : []),
  ];

  const standby = region.standbyApplicationName ? primary?.standbys.get(region.standbyApplicationName) : undefined;
  const replicationSeconds = region.home ? (db ? 0 : undefined) : secondsBetween(db?.heartbeat, primary?.heartbeat);
  const partitions: Array<MessageInitShape<typeof PartitionLagSchema>> = (kafka ?? []).map((p) => ({
    partition: p.partition,
    endOffset: p.end,
    committedOffset: p.committed,
    lag: nonNegative(p.end - (p.committed ?? p.start)),
  }));

  const kafkaLagTotal = kafka ? partitions.reduce((sum, p) => sum + (p.lag as bigint), 0n) : undefined;
  const freshnessSeconds = secondsBetween(invalidator?.lastAppliedCommitTime, now);
  const { status, reasons } = regionHealth(
    {
      region,
      components,
      database: db,
      primary,
      reader,
      freshnessSeconds,
      deadLetters: probes.deadLetters,
      kafkaLag: kafkaLagTotal,
      now,
    },
    thresholds,
  );

  return {
    region: region.name,
    home: region.home,
    status,
    reasons,
    components,
    replicationLagBytes: replicationBytes(region, db, primary),
    replicationLagSeconds: replicationSeconds,
    cdcLagBytes: db?.slots.get(region.cdcSlot)?.lagBytes,
    cdcIdleSeconds: secondsBetween(reader?.lastEventAt, now),
    kafkaLag: partitions,
    kafkaLagTotal,
    freshnessSeconds,
    lastAppliedCommitTime: invalidator?.lastAppliedCommitTime
      ? timestampFromDate(invalidator.lastAppliedCommitTime)
      : undefined,
    latencyP50Ms: invalidator?.latencyP50Ms,
    latencyP99Ms: invalidator?.latencyP99Ms,
    latencyWindowSeconds: invalidator?.latencyWindowSeconds,
    latencyWindowCount: invalidator?.latencyCount === undefined ? undefined : BigInt(invalidator.latencyCount),
    deadLetters: probes.deadLetters,
    observedTime: timestampFromDate(now),
    replication: region.home ? 'primary' : region.standbyApplicationName ? 'physical' : 'logical',
    replicationWriteLagSeconds: standby?.writeLagSeconds,
    replicationFlushLagSeconds: standby?.flushLagSeconds,
    replicationReplayLagSeconds: standby?.replayLagSeconds,
    lastReplayTime: db?.lastReplayTime ? timestampFromDate(db.lastReplayTime) : undefined,
    continuity: regionContinuity(invalidator, reader),
  };
}

/** WAL the region's database has yet to take from the primary: a standby's replay lag, a subscription slot's lag, 0 at home. */
function replicationBytes(
  region: RegionConfig,
  db: DatabaseState | undefined,
  primary: DatabaseState | undefined,
): bigint | undefined {
  if (region.home) return db ? 0n : undefined;
  if (region.standbyApplicationName) return primary?.standbys.get(region.standbyApplicationName)?.replayLagBytes;
  return primary?.slots.get(region.subscriptionSlot!)?.lagBytes;
}

/**
 * Whether the region's database follows the primary, as the primary sees it: a standby is
 * listed in pg_stat_replication while it streams; a logical replica's subscription slot
 * lives on the primary and is active while the replica streams.
 */
function replicationHealth(region: RegionConfig, primary: Observed<DatabaseState>): Observed<unknown> {
  if (primary.status !== 'healthy') return { status: 'unreachable', detail: `primary database: ${primary.detail}` };
  if (region.standbyApplicationName) return standbyHealth(region, primary.value);
  const slot = primary.value.slots.get(region.subscriptionSlot!);
  if (!slot)
    return {
      status: 'unhealthy',
      detail: `no slot ${region.subscriptionSlot} on the primary: the region's subscription is gone`,
    };
  if (!slot.active)
    return {
      status: 'unhealthy',
      detail: `slot ${region.subscriptionSlot} is inactive: the replica is not streaming from the primary`,
    };
  return { status: 'healthy', value: slot };
}

function standbyHealth(region: RegionConfig, primary: DatabaseState): Observed<unknown> {
  const standby = primary.standbys.get(region.standbyApplicationName!);
  const slot = primary.slots.get(region.standbySlot!);
  if (!standby) {
    const why = slot
      ? `; its slot ${region.standbySlot} holds WAL for it (${slot.active ? 'active' : 'inactive'})`
      : `, and there is no slot ${region.standbySlot} for it on the primary`;
    return {
      status: 'unhealthy',
      detail: `standby ${region.standbyApplicationName} is not streaming from the primary${why}`,
    };
  }
  if (standby.state !== 'streaming')
    return {
      status: 'unhealthy',
      detail: `standby ${region.standbyApplicationName} is ${standby.state}, not streaming`,
    };
  if (!slot)
    return {
      status: 'unhealthy',
      detail: `standby streams without its slot ${region.standbySlot}: the primary may remove WAL it still needs`,
    };
  return { status: 'healthy', value: standby };
}

function heartbeatHealth(database: Observed<DatabaseState>, now: Date): Observed<unknown> {
  if (database.status !== 'healthy') return { status: 'unreachable', detail: `primary database: ${database.detail}` };
  const beat = database.value.heartbeat;
  if (!beat) return { status: 'unhealthy', detail: `no ${HEARTBEAT_TABLE} row at the primary` };
  const age = (now.getTime() - beat.getTime()) / 1000;
  if (age > HEARTBEAT_STALE_SECONDS)
    return {
      status: 'unhealthy',
      detail: `last heartbeat ${Math.round(age)} s ago: is the home region's reader running?`,
    };
  return { status: 'healthy', value: beat };
}

function health(name: Component, o: Observed<unknown>, lastSeen: Date | undefined): ComponentHealth {
  const status =
    o.status === 'healthy'
      ? ComponentStatus.HEALTHY
      : o.status === 'unhealthy'
        ? ComponentStatus.UNHEALTHY
        : ComponentStatus.UNREACHABLE;
  return {
    component: name,
    status,
    detail: o.status === 'healthy' ? '' : o.detail,
    lastSeenTime: lastSeen ? timestampFromDate(lastSeen) : undefined,
  };
}

function observedValue<T>(o: Observed<T>): T | undefined {
  return o.status === 'unreachable' ? undefined : o.value;
}

function secondsBetween(earlier: Date | undefined, later: Date | undefined): number | undefined {
  if (!earlier || !later) return undefined;
  return Math.max(0, (later.getTime() - earlier.getTime()) / 1000);
}

function nonNegative(n: bigint): bigint {
  return n < 0n ? 0n : n;
}
