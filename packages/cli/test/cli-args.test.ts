import { ComponentStatus, type GetLagResponse, RegionStatus, timestampFromDate } from '@fabric/control-plane';
import { describe, expect, it } from 'vitest';
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
    expect(home).toMatch(/^us-east\s+healthy\s+primary\s+2\.0 KiB\s+0\s+0\.4s\s+12 ms \/ 80 ms\s+0\s+-$/);
    expect(replica).toMatch(
      /^eu-west\s+degraded\s+100 B \/ 1\.5s\s+\?\s+7\s+\?\s+\? \/ \?\s+\?\s+invalidator unreachable \(seen 10\.0s ago\); cdc-reader unhealthy: HTTP 503$/,
    );
  });
});
