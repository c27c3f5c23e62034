import type { ReaderStatusReading } from '@fabric/contracts';
import { ComponentStatus, RegionStatus } from '@fabric/proto';
import type { RegionConfig } from './config.js';
import type { DatabaseState, SlotState } from './probes/postgres.js';
import type { HealthThresholds } from './region-thresholds.js';

/** Components the control plane talks to itself; the others are derived from the primary's answers. */
const DIRECT = ['postgres', 'kafka', 'cdc-reader', 'invalidator'];

export interface ComponentVerdict {
  component: string;
  status: ComponentStatus;
  detail?: string;
}

/** What a region's health is decided from: the probes' answers, already read. */
export interface RegionHealthInputs {
  region: Pick<RegionConfig, 'name' | 'home' | 'cdcSlot' | 'subscriptionSlot' | 'standbySlot'>;
  components: readonly ComponentVerdict[];
  /** The region's own database; undefined when it did not answer. */
  database: DatabaseState | undefined;
  /** The primary; undefined when it did not answer. */
  primary: DatabaseState | undefined;
  reader: ReaderStatusReading | undefined;
  freshnessSeconds: number | undefined;
  deadLetters: bigint | undefined;
  kafkaLag: bigint | undefined;
  now: Date;
}

export interface RegionHealth {
  status: RegionStatus;
  /** One line per threshold crossed or component in trouble; empty while healthy. */
  reasons: string[];
}

type Severity = 'unhealthy' | 'degraded';

/**
 * A region's status and why. UNREACHABLE when nothing the control plane asks itself
 * answered. UNHEALTHY when its caches are, or are about to go, stale: freshness beyond the
 * threshold, a slot it depends on lost (or, for a replica's slot on the primary, gone), a
 * reader whose publisher keeps retrying one batch. DEGRADED for everything else that is
 * not right: a component not answering or reporting a problem, dead letters, Kafka lag,
 * a slot about to lose WAL. What was not measured crosses no threshold: its component
 * already says it did not answer.
 */
export function regionHealth(inputs: RegionHealthInputs, thresholds: HealthThresholds): RegionHealth {
  const found: Array<{ severity: Severity; reason: string }> = [];
  const add = (severity: Severity, reason: string) => found.push({ severity, reason });

  for (const c of inputs.components) {
    if (c.status === ComponentStatus.HEALTHY) continue;
    const what = c.status === ComponentStatus.UNREACHABLE ? 'unreachable' : 'unhealthy';
    add('degraded', `${c.component} ${what}${c.detail ? `: ${c.detail}` : ''}`);
  }

  const { freshnessSeconds, deadLetters, kafkaLag } = inputs;
  if (freshnessSeconds !== undefined && freshnessSeconds > thresholds.freshnessSeconds)
    add('unhealthy', `freshness ${whole(freshnessSeconds)} s > ${thresholds.freshnessSeconds} s`);
  if (deadLetters !== undefined && deadLetters > BigInt(thresholds.deadLetters))
    add(
      'degraded',
      `DLQ depth ${deadLetters}${thresholds.deadLetters > 0 ? ` > ${thresholds.deadLetters}` : ''}: invalidations not applied (replay or resolve them)`,
    );
  if (kafkaLag !== undefined && kafkaLag > BigInt(thresholds.kafkaLag))
    add('degraded', `kafka lag ${kafkaLag} > ${thresholds.kafkaLag}`);

  const retrying = inputs.reader?.publisherUnacknowledgedSince;
  if (retrying) {
    const seconds = (inputs.now.getTime() - retrying.getTime()) / 1000;
    if (seconds > thresholds.publisherRetryingSeconds) {
      const attempts = inputs.reader?.publisherFailedAttempts;
      add(
        'unhealthy',
        `publisher retrying ${whole(seconds)} s > ${thresholds.publisherRetryingSeconds} s${attempts === undefined ? '' : ` (${attempts} failed attempts)`}: nothing new reaches Kafka`,
      );
    }
  }

  const { region, database, primary } = inputs;
  if (database) {
    const cdc = database.slots.get(region.cdcSlot);
    // The reader creates its slot when it first starts: missing, nothing is being read.
    if (!cdc)
      add('degraded', `slot ${region.cdcSlot} missing on ${region.name}'s database: has its reader ever started?`);
    else slotWal(region.cdcSlot, cdc, add);
  }
  const replicaSlot = region.subscriptionSlot ?? region.standbySlot;
  if (!region.home && replicaSlot && primary) {
    const slot = primary.slots.get(replicaSlot);
    // Without its slot the primary keeps no WAL for the replica: it cannot catch up by streaming.
    if (!slot) add('unhealthy', `slot ${replicaSlot} missing on the primary`);
    else slotWal(replicaSlot, slot, add);
  }

  const reasons = found.map((f) => f.reason);
  const direct = inputs.components.filter((c) => DIRECT.includes(c.component));
  if (direct.length > 0 && direct.every((c) => c.status === ComponentStatus.UNREACHABLE))
    return { status: RegionStatus.UNREACHABLE, reasons };
  if (found.some((f) => f.severity === 'unhealthy')) return { status: RegionStatus.UNHEALTHY, reasons };
  if (found.length > 0) return { status: RegionStatus.DEGRADED, reasons };
  return { status: RegionStatus.HEALTHY, reasons };
}

function slotWal(name: string, slot: SlotState, add: (severity: Severity, reason: string) => void): void {
  if (slot.walStatus === 'lost') add('unhealthy', `slot ${name} wal_status lost: WAL it needs was removed`);
  else if (slot.walStatus === 'unreserved')
    add('degraded', `slot ${name} wal_status unreserved: its WAL is about to be removed (max_slot_wal_keep_size)`);
}

function whole(seconds: number): number {
  return Math.round(seconds);
}
