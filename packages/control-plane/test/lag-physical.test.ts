import { ComponentStatus, RegionStatus, timestampDate } from '@fabric/proto';
import { describe, expect, it } from 'vitest';
import type { RegionConfig } from '../src/config.js';
import { type Component, type RegionProbes, regionLag } from '../src/lag.js';
import type { Observed } from '../src/probes/observed.js';
import type { DatabaseState, StandbyState } from '../src/probes/postgres.js';

const now = new Date('2024-05-01T12:00:10Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000);

const standby = {
  name: 'eu-west',
  home: false,
  cdcSlot: 'fabric_cdc',
  subscriptionSlot: undefined,
  standbySlot: 'fabric_standby_eu_west',
  standbyApplicationName: 'eu_west',
} as RegionConfig;

const streaming: StandbyState = {
  state: 'streaming',
  replayLagBytes: 2048n,
  writeLagSeconds: 0.002,
  flushLagSeconds: 0.003,
  replayLagSeconds: 0.011,
};

function primary(standbys: Map<string, StandbyState>, slot = true): Observed<DatabaseState> {
  return {
    status: 'healthy',
    value: {
      walHead: '0/5000',
      standby: false,
      lastReplayTime: undefined,
      heartbeat: ago(1),
      slots: new Map(slot ? [['fabric_standby_eu_west', { active: true, lagBytes: 0n }]] : []),
      standbys,
    },
  };
}

const standbyDb: Observed<DatabaseState> = {
  status: 'healthy',
  value: {
    walHead: '0/4800',
    standby: true,
    lastReplayTime: ago(1.5),
    heartbeat: ago(1.5),
    slots: new Map([['fabric_cdc', { active: true, lagBytes: 64n }]]),
    standbys: new Map(),
  },
};

function probes(primaryDb: Observed<DatabaseState>): RegionProbes {
  return {
    database: standbyDb,
    primary: primaryDb,
    kafka: { status: 'healthy', value: [{ partition: 0, start: 0n, end: 4n, committed: 4n }] },
    deadLetters: 0n,
    reader: { status: 'healthy', value: { confirmedLsn: '0/4800', pending: 0, lastEventAt: ago(1) } },
    invalidator: {
      status: 'healthy',
      value: { redis: 'up', lastAppliedCommitTime: ago(1.6), latencyP50Ms: 5, latencyP99Ms: 20 },
    },
  };
}

const component = (lag: ReturnType<typeof regionLag>, c: Component) => lag.components!.find((x) => x.component === c);

describe('regionLag for a physical standby', () => {
  it('reports replay lag in bytes and seconds from the primary, and the standby replay time', () => {
    const lag = regionLag(standby, probes(primary(new Map([['eu_west', streaming]]))), () => undefined, now);
    expect(lag.status).toBe(RegionStatus.HEALTHY);
    expect(lag.replication).toBe('physical');
    expect(lag.replicationLagBytes).toBe(2048n);
    expect(lag.replicationLagSeconds).toBe(0.5);
    expect(lag.replicationReplayLagSeconds).toBe(0.011);
    expect(lag.replicationWriteLagSeconds).toBe(0.002);
    expect(timestampDate(lag.lastReplayTime!)).toEqual(ago(1.5));
    expect(lag.cdcLagBytes).toBe(64n);
  });

  it('is degraded, saying why, when the standby does not stream from the primary', () => {
    const lag = regionLag(standby, probes(primary(new Map())), () => undefined, now);
    expect(lag.status).toBe(RegionStatus.DEGRADED);
    expect(component(lag, 'replication')).toMatchObject({
      status: ComponentStatus.UNHEALTHY,
      detail:
        'standby eu_west is not streaming from the primary; its slot fabric_standby_eu_west holds WAL for it (active)',
    });
    expect(lag.replicationLagBytes).toBeUndefined();
  });

  it('flags a standby that streams without its slot (the primary may remove WAL it needs)', () => {
    const lag = regionLag(standby, probes(primary(new Map([['eu_west', streaming]]), false)), () => undefined, now);
    expect(component(lag, 'replication')?.detail).toContain('without its slot fabric_standby_eu_west');
  });

  it('flags a standby still catching up', () => {
    const catchingUp = new Map([['eu_west', { ...streaming, state: 'catchup' }]]);
    const lag = regionLag(standby, probes(primary(catchingUp)), () => undefined, now);
    expect(component(lag, 'replication')?.detail).toBe('standby eu_west is catchup, not streaming');
  });
});
