import { describe, expect, it } from 'vitest';
import { type InvalidatorStatus, parseInvalidatorStatus, parseReaderStatus, type ReaderStatus } from '../src/index.js';

/** What a poller gets: the status as JSON on the wire. */
const overTheWire = (status: unknown): unknown => JSON.parse(JSON.stringify(status));

describe('reader status', () => {
  it('reads back what a reader answers', () => {
    const status: ReaderStatus = {
      ok: true,
      confirmedLsn: '0/3000060',
      pending: 3,
      lastEventAt: '2024-05-01T12:00:00.000Z',
    };
    expect(parseReaderStatus(overTheWire(status))).toEqual({
      confirmedLsn: '0/3000060',
      pending: 3,
      lastEventAt: new Date('2024-05-01T12:00:00.000Z'),
    });
  });

  it('leaves what was not said, or said malformed, undefined', () => {
    expect(parseReaderStatus({ ok: true, pending: 0 })).toEqual({
      confirmedLsn: undefined,
      pending: 0,
      lastEventAt: undefined,
    });
    expect(parseReaderStatus({ confirmedLsn: 7, pending: 'many', lastEventAt: 'yesterday' })).toEqual({
      confirmedLsn: undefined,
      pending: undefined,
      lastEventAt: undefined,
    });
    expect(parseReaderStatus(null)).toEqual(parseReaderStatus({}));
    expect(parseReaderStatus([1])).toEqual(parseReaderStatus({}));
  });

  it("reads what the reader's start check found, and leaves an unknown verdict unsaid", () => {
    const status: ReaderStatus = {
      ok: true,
      pending: 0,
      continuity: {
        verdict: 'gap',
        reason: 'slot-recreated',
        detail: 'slot fabric_cdc was created again',
        resyncId: 'eu-west:resync:fabric_cdc@0/3000',
        checkedAt: '2024-05-01T12:00:00.000Z',
      },
    };
    expect(parseReaderStatus(overTheWire(status)).continuity).toEqual(status.continuity);
    expect(parseReaderStatus({ continuity: { verdict: 'continuous', checkedAt: 'never' } }).continuity).toEqual({
      verdict: 'continuous',
      reason: undefined,
      detail: undefined,
      resyncId: undefined,
      checkedAt: '',
    });
    expect(parseReaderStatus({ continuity: { verdict: 'maybe' } }).continuity).toBeUndefined();
    expect(parseReaderStatus({ continuity: 'gap' }).continuity).toBeUndefined();
  });
});

describe('invalidator status', () => {
  const status: InvalidatorStatus = {
    ok: true,
    component: 'invalidator',
    region: 'eu-west',
    groupId: 'fabric-invalidator-eu-west',
    topic: 'fabric.inval.eu-west',
    redis: 'down',
    assigned: [0, 2],
    lastAppliedCommitTime: '2024-05-01T12:00:00.000Z',
    freshnessSeconds: 1.5,
    latencyMs: { p50: 12.5, p99: 80, count: 40 },
    applied: 40,
    deadLettered: 1,
    retries: 2,
    partitions: [{ partition: 0, lastAppliedCommitTime: '2024-05-01T12:00:00.000Z' }],
  };

  it('reads back what an invalidator answers', () => {
    expect(parseInvalidatorStatus(overTheWire(status))).toEqual({
      redis: 'down',
      lastAppliedCommitTime: new Date('2024-05-01T12:00:00.000Z'),
      latencyP50Ms: 12.5,
      latencyP99Ms: 80,
      latencyCount: 40,
    });
  });

  it('reads an empty latency window and a fresh start as unknown, not 0', () => {
    const fresh = { ...status, lastAppliedCommitTime: null, latencyMs: { p50: null, p99: null, count: 0 } };
    expect(parseInvalidatorStatus(overTheWire(fresh))).toEqual({
      redis: 'down',
      lastAppliedCommitTime: undefined,
      latencyP50Ms: undefined,
      latencyP99Ms: undefined,
      latencyCount: 0,
    });
  });

  it('leaves what was not said, or said malformed, undefined', () => {
    expect(parseInvalidatorStatus({ ok: false, redis: 'sleepy', latencyMs: 'fast' })).toEqual({
      redis: undefined,
      lastAppliedCommitTime: undefined,
      latencyP50Ms: undefined,
      latencyP99Ms: undefined,
    });
    expect(parseInvalidatorStatus('<html>')).toEqual(parseInvalidatorStatus({}));
  });
});
