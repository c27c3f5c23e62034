import type { ContinuityRecord } from '@fabric/contracts';
import { describe, expect, it } from 'vitest';
import { judgeContinuity, type ObservedStream, parseTimelineHistory } from '../../src/continuity/judge.js';

const record: ContinuityRecord = {
  systemId: '7300000000000000001',
  timeline: 1,
  slot: 'fabric_cdc',
  slotStart: '0/1000000',
  confirmedLsn: '0/3000000',
  updatedAt: '2026-12-01T00:00:00.000Z',
};
const same: ObservedStream = {
  systemId: record.systemId,
  timeline: 1,
  slot: 'fabric_cdc',
  slotCreated: false,
  slotConfirmedLsn: '0/2F00000',
};
const noHistory = () => undefined;

describe('judgeContinuity', () => {
  it('calls a start without a record a first start, and says what it does not cover', () => {
    const v = judgeContinuity(undefined, same, noHistory);
    expect(v.verdict).toBe('first-start');
    expect(v).toMatchObject({ detail: expect.stringContaining('changes before 0/2F00000 are not covered') });
  });

  it('lets the same slot on the same database continue, the slot at or behind the record', () => {
    expect(judgeContinuity(record, same, noHistory)).toEqual({ verdict: 'continuous' });
    expect(judgeContinuity(record, { ...same, slotConfirmedLsn: record.confirmedLsn }, noHistory).verdict).toBe(
      'continuous',
    );
  });

  it.each([
    ['a slot created by this start', { slotCreated: true }, 'slot-recreated', /was missing and was created/],
    ['a slot of another name', { slot: 'fabric_cdc_2' }, 'slot-recreated', /now reads slot fabric_cdc_2/],
    ['a slot confirmed past the record', { slotConfirmedLsn: '0/5000000' }, 'slot-recreated', /dropped and created/],
    [
      'an invalidated slot that was replaced',
      { slotCreated: true, slotInvalidated: 'wal_removed' },
      'slot-invalidated',
      /invalidated \(wal_removed\)/,
    ],
    [
      'another system identifier',
      { systemId: '7399999999999999999' },
      'system-identifier-changed',
      /rebuilt or restored/,
    ],
    ['a new timeline without history', { timeline: 2 }, 'timeline-changed', /does not show where 1 ended/],
  ] as const)('finds a gap in %s', (_what, change, reason, detail) => {
    const v = judgeContinuity(record, { ...same, ...change }, noHistory);
    expect(v).toMatchObject({ verdict: 'gap', reason });
    expect(v.verdict === 'gap' && v.detail).toMatch(detail);
  });

  it('follows a new timeline whose switch point is at or after the last confirmed change', () => {
    const promoted = { ...same, timeline: 2 };
    const after = judgeContinuity(record, promoted, (t) => (t === 1 ? '0/3000000' : undefined));
    expect(after).toMatchObject({ verdict: 'continuous', detail: expect.stringContaining('history continues') });
    const before = judgeContinuity(record, promoted, (t) => (t === 1 ? '0/2000000' : undefined));
    expect(before).toMatchObject({ verdict: 'gap', reason: 'timeline-changed' });
  });

  it('names a rebuilt database before a missing slot: the slot cannot be what continues', () => {
    const v = judgeContinuity(record, { ...same, systemId: '1', slotCreated: true }, noHistory);
    expect(v).toMatchObject({ reason: 'system-identifier-changed' });
  });
});

describe('parseTimelineHistory', () => {
  it('reads each line into a switch point', () => {
    const history = parseTimelineHistory('1\t0/3000A28\tno recovery target specified\n\n2\t0/5000060\tpromoted\n');
    expect([...history]).toEqual([
      [1, '0/3000A28'],
      [2, '0/5000060'],
    ]);
  });
});
