import {
  ComponentStatus,
  ContinuityState,
  type GetLagResponse,
  type RegionContinuity,
  RegionStatus,
  timestampFromDate,
} from '@fabric/control-plane';
import { describe, expect, it } from 'vitest';
import { continuityCell } from '../src/commands/continuity-cell.js';
import { lagTable } from '../src/commands/lag-table.js';
import { parseOffsetArg, parseTimeArg } from '../src/time-arg.js';
import { UsageError } from '../src/usage.js';

describe('parseTimeArg', () => {
  const now = new Date('2024-05-01T12:00:00Z');
  it('reads durations back from now and ISO times', () => {
    expect(parseTimeArg('--since', '15m', now)).toEqual(new Date('2024-05-01T11:45:00Z'));
    expect(parseTimeArg('--since', '2d', now)).toEqual(new Date('2024-04-29T12:00:00Z'));
    expect(parseTimeArg('--until', '2024-04-30T08:00:00Z', now)).toEqual(new Date('2024-04-30T08:00:00Z'));
  });

  it.each(['yesterday', '15', '-5m', '2024-13-45'])('refuses %s naming the flag', (value) => {
    expect(() => parseTimeArg('--since', value, now)).toThrow(UsageError);
    expect(() => parseTimeArg('--since', value, now)).toThrow(/^--since: /);
  });

  it('reads offsets as bigints', () => {
    expect(parseOffsetArg('--from-offset', '9007199254740993')).toBe(9007199254740993n);
    expect(() => parseOffsetArg('--to-offset', '-1')).toThrow('--to-offset: "-1" must be a non-negative integer');
  });
});

describe('lagTable', () => {
  const now = new Date('2024-05-01T12:00:10Z');
  it('prints unknown values as ? and names components that did not answer', () => {
    const response = {
      regions: [
        {
          region: 'us-east',
          home: true,
          status: RegionStatus.HEALTHY,
          components: [],
          replicationLagBytes: 0n,
          replicationLagSeconds: 0,
          cdcLagBytes: 2048n,
          kafkaLag: [],
          kafkaLagTotal: 0n,
          freshnessSeconds: 0.4,
          latencyP50Ms: 11.6,
          latencyP99Ms: 80,
          deadLetters: 0n,
          continuity: { state: ContinuityState.OK, resyncId: '' },
        },
        {
          region: 'eu-west',
          home: false,
          status: RegionStatus.DEGRADED,
          components: [
            {
              component: 'invalidator',
              status: ComponentStatus.UNREACHABLE,
              detail: 'ECONNREFUSED',
              lastSeenTime: timestampFromDate(new Date('2024-05-01T12:00:00Z')),
            },
            { component: 'cdc-reader', status: ComponentStatus.UNHEALTHY, detail: 'HTTP 503' },
          ],
          replicationLagBytes: 100n,
          replicationLagSeconds: 1.5,
          kafkaLag: [],
          kafkaLagTotal: 7n,
        },
      ],
    } as unknown as GetLagResponse;
    const [, , home, replica] = lagTable(response, now).split('\n');
    expect(home).toMatch(/^us-east\s+healthy\s+primary\s+2\.0 KiB\s+0\s+0\.4s\s+12 ms \/ 80 ms\s+0\s+ok\s+-$/);
    expect(replica).toMatch(
      /^eu-west\s+degraded\s+100 B \/ 1\.5s\s+\?\s+7\s+\?\s+\? \/ \?\s+\?\s+\?\s+invalidator unreachable \(seen 10\.0s ago\); cdc-reader unhealthy: HTTP 503$/,
    );
  });
});

describe('continuity in fabric lag', () => {
  const at = (iso: string) => timestampFromDate(new Date(iso));
  const continuity = (c: Partial<RegionContinuity>) => ({ resyncId: '', reason: '', ...c }) as RegionContinuity;

  it('prints unknown as ?, never as ok', () => {
    expect(continuityCell(undefined)).toBe('?');
    expect(continuityCell(continuity({ state: ContinuityState.UNSPECIFIED }))).toBe('?');
  });

  it('prints a region that never resynced as ok, and the last finished resync after it', () => {
    expect(continuityCell(continuity({ state: ContinuityState.OK }))).toBe('ok');
    expect(
      continuityCell(
        continuity({
          state: ContinuityState.OK,
          resyncId: 'eu-west:resync:fabric_cdc@0/3000',
          reason: 'slot-recreated',
          startedTime: at('2024-05-01T11:58:00.250Z'),
          finishedTime: at('2024-05-01T11:59:30.500Z'),
          keysDropped: 1200n,
        }),
      ),
    ).toBe('ok, last resync slot-recreated at 2024-05-01T11:59:30Z (1200 keys)');
  });

  it('prints a running resync with its reason, start and keys dropped so far', () => {
    expect(
      continuityCell(
        continuity({
          state: ContinuityState.RESYNCING,
          resyncId: 'eu-west:resync:operator:1714564800000',
          reason: 'operator',
          startedTime: at('2024-05-01T12:00:00Z'),
          keysDropped: 30n,
        }),
      ),
    ).toBe('resyncing (operator, since 2024-05-01T12:00:00Z, 30 keys dropped)');
    expect(continuityCell(continuity({ state: ContinuityState.RESYNCING, resyncId: 'x' }))).toBe(
      'resyncing (unknown reason, since ?, ? keys dropped)',
    );
  });

  it('shows a running resync in its column, not again among the problems', () => {
    const response = {
      regions: [
        {
          region: 'eu-west',
          home: false,
          status: RegionStatus.DEGRADED,
          components: [
            { component: 'continuity', status: ComponentStatus.UNHEALTHY, detail: 'resyncing since ...: operator' },
          ],
          kafkaLag: [],
          continuity: continuity({
            state: ContinuityState.RESYNCING,
            resyncId: 'r',
            reason: 'operator',
            startedTime: at('2024-05-01T12:00:00Z'),
            keysDropped: 0n,
          }),
        },
      ],
    } as unknown as GetLagResponse;
    const [header, , row] = lagTable(response, new Date('2024-05-01T12:00:10Z')).split('\n');
    expect(header).toMatch(/\bDLQ\s+CONTINUITY\s+PROBLEMS$/);
    expect(row).toMatch(/\s+resyncing \(operator, since 2024-05-01T12:00:00Z, 0 keys dropped\)\s+-$/);
  });
});
