import type { ContinuityState as Continuity, InvalidatorStatusReading } from '@fabric/contracts';
import { ComponentStatus, ContinuityState, RegionStatus, timestampDate } from '@fabric/proto';
import { describe, expect, it } from 'vitest';
import type { RegionConfig } from '../src/config.js';
import { type Component, HEARTBEAT_STALE_SECONDS, type RegionProbes, regionLag } from '../src/lag.js';
import type { Observed } from '../src/probes/observed.js';
import type { DatabaseState } from '../src/probes/postgres.js';

const now = new Date('2024-05-01T12:00:10Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000);

const home = { name: 'us-east', home: true, cdcSlot: 'fabric_cdc', subscriptionSlot: undefined } as RegionConfig;
const replica = {
  name: 'eu-west',
  home: false,
  cdcSlot: 'fabric_cdc',
  subscriptionSlot: 'fabric_sub_eu_west',
} as RegionConfig;

const primaryDb: Observed<DatabaseState> = {
  status: 'healthy',
  value: {
    walHead: '0/5000',
    heartbeat: ago(1),
    slots: new Map([
      ['fabric_cdc', { active: true, lagBytes: 128n }],
      ['fabric_sub_eu_west', { active: true, lagBytes: 4096n }],
    ]),
  },
};
const replicaDb: Observed<DatabaseState> = {
  status: 'healthy',
  value: { walHead: '0/3000', heartbeat: ago(3.5), slots: new Map([['fabric_cdc', { active: true, lagBytes: 0n }]]) },
};
const unreachable = { status: 'unreachable', detail: 'ECONNREFUSED' } as const;

function invalidatorSays(continuity?: Continuity): InvalidatorStatusReading {
  return { redis: 'up', lastAppliedCommitTime: ago(1.25), latencyP50Ms: 12, latencyP99Ms: 80, continuity };
}

function probes(patch: Partial<RegionProbes> = {}): RegionProbes {
  return {
    database: replicaDb,
    primary: primaryDb,
    kafka: {
      status: 'healthy',
      value: [
        { partition: 0, start: 0n, end: 10n, committed: 7n },
        { partition: 1, start: 2n, end: 5n, committed: undefined },
      ],
    },
    deadLetters: 0n,
    reader: {
      status: 'healthy',
      value: { confirmedLsn: '0/3000', pending: 0, lastEventAt: ago(2), continuity: undefined },
    },
    invalidator: { status: 'healthy', value: invalidatorSays() },
    ...patch,
  };
}

const neverSeen = () => undefined;
const status = (lag: ReturnType<typeof regionLag>, c: Component) => lag.components!.find((x) => x.component === c);

describe('regionLag', () => {
  it('reports every stage of a healthy replica region', () => {
    const lag = regionLag(replica, probes(), neverSeen, now);
    expect(lag.status).toBe(RegionStatus.HEALTHY);
    expect(lag.replicationLagBytes).toBe(4096n);
    expect(lag.replicationLagSeconds).toBe(2.5);
    expect(lag.cdcLagBytes).toBe(0n);
    expect(lag.cdcIdleSeconds).toBe(2);
    expect(lag.kafkaLag).toEqual([
      { partition: 0, endOffset: 10n, committedOffset: 7n, lag: 3n },
      { partition: 1, endOffset: 5n, committedOffset: undefined, lag: 3n },
    ]);
    expect(lag.kafkaLagTotal).toBe(6n);
    expect(lag.freshnessSeconds).toBe(1.25);
    expect(timestampDate(lag.lastAppliedCommitTime!)).toEqual(ago(1.25));
    expect([lag.latencyP50Ms, lag.latencyP99Ms]).toEqual([12, 80]);
    expect(lag.deadLetters).toBe(0n);
    expect(lag.reasons).toEqual([]);
    expect(status(lag, 'replication')?.status).toBe(ComponentStatus.HEALTHY);
  });

  it('leaves numbers unset, not 0, when the invalidator does not answer, and says when it was last seen', () => {
    const seen = ago(30);
    const lag = regionLag(
      replica,
      probes({ invalidator: unreachable }),
      (c) => (c === 'invalidator' ? seen : undefined),
      now,
    );
    expect(lag.freshnessSeconds).toBeUndefined();
    expect(lag.latencyP50Ms).toBeUndefined();
    expect(lag.latencyP99Ms).toBeUndefined();
    expect(lag.lastAppliedCommitTime).toBeUndefined();
    expect(lag.status).toBe(RegionStatus.DEGRADED);
    expect(status(lag, 'invalidator')).toMatchObject({ status: ComponentStatus.UNREACHABLE, detail: 'ECONNREFUSED' });
    expect(timestampDate(status(lag, 'invalidator')!.lastSeenTime!)).toEqual(seen);
  });

  it('keeps the numbers of a worker that answers unhealthy', () => {
    const lag = regionLag(
      replica,
      probes({
        invalidator: {
          status: 'unhealthy',
          detail: 'redis down',
          value: {
            redis: 'down',
            lastAppliedCommitTime: ago(40),
            latencyP50Ms: undefined,
            latencyP99Ms: undefined,
            continuity: undefined,
          },
        },
      }),
      neverSeen,
      now,
    );
    expect(lag.freshnessSeconds).toBe(40);
    expect(lag.latencyP50Ms).toBeUndefined();
    expect(status(lag, 'invalidator')).toMatchObject({ status: ComponentStatus.UNHEALTHY, detail: 'redis down' });
  });

  it('calls a region whose every component is silent UNREACHABLE with nothing measured', () => {
    const lag = regionLag(
      replica,
      probes({
        database: unreachable,
        kafka: unreachable,
        reader: unreachable,
        invalidator: unreachable,
        deadLetters: undefined,
      }),
      neverSeen,
      now,
    );
    expect(lag.status).toBe(RegionStatus.UNREACHABLE);
    expect(lag).toMatchObject({
      replicationLagSeconds: undefined,
      cdcLagBytes: undefined,
      cdcIdleSeconds: undefined,
      kafkaLagTotal: undefined,
      freshnessSeconds: undefined,
      deadLetters: undefined,
    });
    expect(lag.kafkaLag).toEqual([]);
    // The primary still knows how far behind the replica's subscription is.
    expect(lag.replicationLagBytes).toBe(4096n);
  });

  it('reports the replication slot state and an unreachable primary', () => {
    const inactive: Observed<DatabaseState> = {
      status: 'healthy',
      value: { ...primaryDb.value!, slots: new Map([['fabric_sub_eu_west', { active: false, lagBytes: 9n }]]) },
    } as Observed<DatabaseState>;
    expect(status(regionLag(replica, probes({ primary: inactive }), neverSeen, now), 'replication')).toMatchObject({
      status: ComponentStatus.UNHEALTHY,
      detail: expect.stringContaining('inactive'),
    });
    const gone: Observed<DatabaseState> = {
      status: 'healthy',
      value: { walHead: '0/1', heartbeat: ago(1), slots: new Map() },
    };
    expect(status(regionLag(replica, probes({ primary: gone }), neverSeen, now), 'replication')?.detail).toContain(
      'no slot fabric_sub_eu_west',
    );
    const lag = regionLag(replica, probes({ primary: unreachable }), neverSeen, now);
    expect(status(lag, 'replication')?.status).toBe(ComponentStatus.UNREACHABLE);
    expect(lag.replicationLagBytes).toBeUndefined();
    expect(lag.replicationLagSeconds).toBeUndefined();
  });

  it('gives the home region zero replication lag and checks the heartbeat there', () => {
    const lag = regionLag(home, probes({ database: primaryDb }), neverSeen, now);
    expect([lag.replicationLagBytes, lag.replicationLagSeconds]).toEqual([0n, 0]);
    expect(lag.cdcLagBytes).toBe(128n);
    expect(status(lag, 'heartbeat')?.status).toBe(ComponentStatus.HEALTHY);
    expect(lag.components!.some((c) => c.component === 'replication')).toBe(false);
    const stale: Observed<DatabaseState> = {
      status: 'healthy',
      value: { ...primaryDb.value!, heartbeat: ago(HEARTBEAT_STALE_SECONDS + 5) },
    } as Observed<DatabaseState>;
    const staleLag = regionLag(home, probes({ database: stale, primary: stale }), neverSeen, now);
    expect(status(staleLag, 'heartbeat')).toMatchObject({
      status: ComponentStatus.UNHEALTHY,
      detail: expect.stringContaining('15 s ago'),
    });
    expect(staleLag.status).toBe(RegionStatus.DEGRADED);
    const down = regionLag(home, probes({ database: unreachable, primary: unreachable }), neverSeen, now);
    expect([down.replicationLagBytes, down.replicationLagSeconds]).toEqual([undefined, undefined]);
  });
});

describe('regionLag continuity', () => {
  const finished: Continuity = {
    state: 'ok',
    resyncId: 'eu-west:resync:fabric_cdc@0/3000',
    reason: 'slot-recreated',
    detail: 'slot fabric_cdc was created again',
    startedAt: ago(60).toISOString(),
    finishedAt: ago(50).toISOString(),
    keysDropped: 1200,
  };
  const running: Continuity = {
    state: 'resyncing',
    resyncId: 'eu-west:resync:operator:1714564800000',
    reason: 'operator',
    detail: 'asked by ops: restored from backup',
    startedAt: ago(5).toISOString(),
    keysDropped: 30,
  };
  const withReader = (verdict: 'first-start' | 'continuous' | 'gap' | 'unchecked') =>
    probes({
      invalidator: { status: 'healthy', value: invalidatorSays(finished) },
      reader: {
        status: 'healthy',
        value: {
          confirmedLsn: '0/3000',
          pending: 0,
          lastEventAt: ago(2),
          continuity: { verdict, checkedAt: ago(70).toISOString() },
        },
      },
    });

  it('carries the last finished resync and what the reader found, and stays healthy', () => {
    const lag = regionLag(replica, withReader('gap'), neverSeen, now);
    expect(lag.continuity).toMatchObject({
      state: ContinuityState.OK,
      resyncId: finished.resyncId,
      reason: 'slot-recreated',
      detail: finished.detail,
      keysDropped: 1200n,
      readerVerdict: 'gap',
    });
    expect(timestampDate(lag.continuity!.startedTime!)).toEqual(ago(60));
    expect(timestampDate(lag.continuity!.finishedTime!)).toEqual(ago(50));
    expect(lag.status).toBe(RegionStatus.HEALTHY);
    expect(status(lag, 'continuity')).toBeUndefined();
  });

  it('reads a region that never resynced as ok with empty resync fields', () => {
    const lag = regionLag(
      replica,
      probes({ invalidator: { status: 'healthy', value: invalidatorSays({ state: 'ok' }) } }),
      neverSeen,
      now,
    );
    expect(lag.continuity).toEqual({
      state: ContinuityState.OK,
      resyncId: '',
      reason: '',
      detail: '',
      startedTime: undefined,
      finishedTime: undefined,
      keysDropped: undefined,
      readerVerdict: '',
    });
  });

  it('makes a region with a running resync DEGRADED through an unhealthy continuity component', () => {
    const seen = ago(1);
    const lag = regionLag(
      replica,
      probes({ invalidator: { status: 'healthy', value: invalidatorSays(running) } }),
      (c) => (c === 'continuity' ? seen : undefined),
      now,
    );
    expect(lag.continuity).toMatchObject({ state: ContinuityState.RESYNCING, reason: 'operator', keysDropped: 30n });
    expect(lag.continuity!.finishedTime).toBeUndefined();
    expect(lag.status).toBe(RegionStatus.DEGRADED);
    expect(status(lag, 'continuity')).toMatchObject({
      status: ComponentStatus.UNHEALTHY,
      detail: `resyncing since ${ago(5).toISOString()}: operator`,
    });
    expect(timestampDate(status(lag, 'continuity')!.lastSeenTime!)).toEqual(seen);
  });

  it('keeps the continuity of an invalidator that answers unhealthy', () => {
    const lag = regionLag(
      replica,
      probes({ invalidator: { status: 'unhealthy', detail: 'HTTP 503', value: invalidatorSays(running) } }),
      neverSeen,
      now,
    );
    expect(lag.continuity?.state).toBe(ContinuityState.RESYNCING);
    expect(status(lag, 'continuity')?.status).toBe(ComponentStatus.UNHEALTHY);
  });

  it('leaves continuity unset, never ok, when the invalidator does not answer or does not say', () => {
    for (const invalidator of [
      unreachable,
      { status: 'healthy', value: invalidatorSays(undefined) } as const,
    ] satisfies Array<RegionProbes['invalidator']>) {
      const lag = regionLag(replica, probes({ invalidator }), neverSeen, now);
      expect(lag.continuity).toBeUndefined();
      expect(status(lag, 'continuity')).toBeUndefined();
    }
  });

  it('leaves the reader verdict empty when the reader did not answer', () => {
    const lag = regionLag(
      replica,
      probes({ invalidator: { status: 'healthy', value: invalidatorSays(finished) }, reader: unreachable }),
      neverSeen,
      now,
    );
    expect(lag.continuity?.readerVerdict).toBe('');
  });
});
