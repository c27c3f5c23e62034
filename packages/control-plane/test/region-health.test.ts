import type { ReaderStatusReading } from '@fabric/contracts';
import { ComponentStatus, RegionStatus } from '@fabric/proto';
import { describe, expect, it } from 'vitest';
import type { DatabaseState, SlotState } from '../src/probes/postgres.js';
import { type RegionHealthInputs, regionHealth } from '../src/region-health.js';
import { DEFAULT_HEALTH_THRESHOLDS, parseHealthThresholds } from '../src/region-thresholds.js';

const now = new Date('2026-01-01T12:00:00Z');
const slot = (walStatus = 'reserved'): SlotState => ({ active: true, lagBytes: 0n, walStatus });
const db = (slots: Array<[string, SlotState]>): DatabaseState => ({
  walHead: '0/1',
  standby: false,
  lastReplayTime: undefined,
  slots: new Map(slots),
  standbys: new Map(),
  heartbeat: now,
});
const healthy = (c: string) => ({ component: c, status: ComponentStatus.HEALTHY });
const reader = (patch: Partial<ReaderStatusReading> = {}): ReaderStatusReading => ({
  confirmedLsn: '0/1',
  pending: 0,
  lastEventAt: now,
  publisherUnacknowledgedSince: undefined,
  publisherFailedAttempts: undefined,
  continuity: undefined,
  ...patch,
});

function inputs(patch: Partial<RegionHealthInputs> = {}): RegionHealthInputs {
  return {
    region: {
      name: 'eu-west',
      home: false,
      cdcSlot: 'fabric_cdc',
      subscriptionSlot: 'fabric_sub_eu_west',
      standbySlot: undefined,
    },
    components: ['postgres', 'kafka', 'cdc-reader', 'invalidator', 'replication'].map(healthy),
    database: db([['fabric_cdc', slot()]]),
    primary: db([['fabric_sub_eu_west', slot()]]),
    reader: reader(),
    freshnessSeconds: 1.5,
    deadLetters: 0n,
    kafkaLag: 12n,
    now,
    ...patch,
  };
}

describe('regionHealth', () => {
  it('is healthy with no reasons when every component answers and no threshold is crossed', () => {
    expect(regionHealth(inputs(), DEFAULT_HEALTH_THRESHOLDS)).toEqual({ status: RegionStatus.HEALTHY, reasons: [] });
  });

  it('calls a region 75 s behind unhealthy, naming the threshold, while every component says healthy', () => {
    expect(regionHealth(inputs({ freshnessSeconds: 75.4 }), DEFAULT_HEALTH_THRESHOLDS)).toEqual({
      status: RegionStatus.UNHEALTHY,
      reasons: ['freshness 75 s > 30 s'],
    });
    // At the threshold it is still healthy: "beyond" means beyond.
    expect(regionHealth(inputs({ freshnessSeconds: 30 }), DEFAULT_HEALTH_THRESHOLDS).status).toBe(RegionStatus.HEALTHY);
  });

  it('degrades on pending dead letters and Kafka lag beyond their thresholds', () => {
    const h = regionHealth(inputs({ deadLetters: 12n, kafkaLag: 40_000n }), DEFAULT_HEALTH_THRESHOLDS);
    expect(h.status).toBe(RegionStatus.DEGRADED);
    expect(h.reasons).toEqual([
      'DLQ depth 12: invalidations not applied (replay or resolve them)',
      'kafka lag 40000 > 10000',
    ]);
    const tolerant = { ...DEFAULT_HEALTH_THRESHOLDS, deadLetters: 20, kafkaLag: 50_000 };
    expect(regionHealth(inputs({ deadLetters: 12n, kafkaLag: 40_000n }), tolerant).status).toBe(RegionStatus.HEALTHY);
  });

  it('is unhealthy when a slot lost its WAL or the replica slot is gone, degraded when WAL is about to go', () => {
    const lost = regionHealth(inputs({ database: db([['fabric_cdc', slot('lost')]]) }), DEFAULT_HEALTH_THRESHOLDS);
    expect(lost).toEqual({
      status: RegionStatus.UNHEALTHY,
      reasons: ['slot fabric_cdc wal_status lost: WAL it needs was removed'],
    });
    const gone = regionHealth(inputs({ primary: db([]) }), DEFAULT_HEALTH_THRESHOLDS);
    expect(gone).toEqual({
      status: RegionStatus.UNHEALTHY,
      reasons: ['slot fabric_sub_eu_west missing on the primary'],
    });
    const unreserved = regionHealth(
      inputs({ primary: db([['fabric_sub_eu_west', slot('unreserved')]]) }),
      DEFAULT_HEALTH_THRESHOLDS,
    );
    expect(unreserved.status).toBe(RegionStatus.DEGRADED);
    expect(unreserved.reasons[0]).toMatch(/^slot fabric_sub_eu_west wal_status unreserved/);
    const noCdc = regionHealth(inputs({ database: db([]) }), DEFAULT_HEALTH_THRESHOLDS);
    expect(noCdc.status).toBe(RegionStatus.DEGRADED);
    expect(noCdc.reasons[0]).toMatch(/^slot fabric_cdc missing on eu-west's database/);
  });

  it('is unhealthy while the reader publisher retries one batch for longer than the threshold', () => {
    const since = (s: number) => new Date(now.getTime() - s * 1000);
    const retrying = (s: number) =>
      regionHealth(
        inputs({ reader: reader({ publisherUnacknowledgedSince: since(s), publisherFailedAttempts: 9 }) }),
        DEFAULT_HEALTH_THRESHOLDS,
      );
    expect(retrying(20).status).toBe(RegionStatus.HEALTHY);
    expect(retrying(45)).toEqual({
      status: RegionStatus.UNHEALTHY,
      reasons: ['publisher retrying 45 s > 30 s (9 failed attempts): nothing new reaches Kafka'],
    });
  });

  it('names components in trouble, and calls a region where nothing answers unreachable', () => {
    const down = { component: 'invalidator', status: ComponentStatus.UNREACHABLE, detail: 'ECONNREFUSED' };
    const h = regionHealth(
      inputs({ components: [...inputs().components.filter((c) => c.component !== 'invalidator'), down] }),
      DEFAULT_HEALTH_THRESHOLDS,
    );
    expect(h).toEqual({ status: RegionStatus.DEGRADED, reasons: ['invalidator unreachable: ECONNREFUSED'] });
    const silent = ['postgres', 'kafka', 'cdc-reader', 'invalidator'].map((c) => ({
      component: c,
      status: ComponentStatus.UNREACHABLE,
      detail: 'timeout',
    }));
    const nothing = regionHealth(
      inputs({
        components: silent,
        database: undefined,
        primary: undefined,
        reader: undefined,
        freshnessSeconds: undefined,
        deadLetters: undefined,
        kafkaLag: undefined,
      }),
      DEFAULT_HEALTH_THRESHOLDS,
    );
    expect(nothing.status).toBe(RegionStatus.UNREACHABLE);
    expect(nothing.reasons).toHaveLength(4);
  });
});

describe('parseHealthThresholds', () => {
  it('takes the defaults for what is not given, and names a bad field with its limits', () => {
    expect(parseHealthThresholds('health', undefined)).toEqual(DEFAULT_HEALTH_THRESHOLDS);
    expect(parseHealthThresholds('health', { freshnessSeconds: 5 })).toEqual({
      ...DEFAULT_HEALTH_THRESHOLDS,
      freshnessSeconds: 5,
    });
    expect(() => parseHealthThresholds('health', { freshnessSeconds: 0 })).toThrow(
      'health.freshnessSeconds: must be a number from 1 to 86400, got 0',
    );
    expect(() => parseHealthThresholds('health', { freshness: 5 })).toThrow('health.freshness: is not a threshold');
    expect(() => parseHealthThresholds('health', [])).toThrow('health: must be an object');
  });
});
