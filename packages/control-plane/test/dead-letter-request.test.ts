import { create, ListDeadLettersRequestSchema, ReplayDeadLettersRequestSchema, timestampFromDate } from '@fabric/proto';
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { RegionConfig } from '../src/config.js';
import { decodePageToken, encodePageToken, planListing, planReplay, replayRanges } from '../src/dead-letter-request.js';
import { RegionDirectory } from '../src/regions.js';
import type { RpcError } from '../src/rpc-error.js';

const regions = new RegionDirectory(
  ['us-east', 'eu-west'].map((name) => ({ name, deadLetterTopic: `fabric.inval.${name}.dlq` }) as RegionConfig),
);

function refusal(fn: () => unknown): RpcError {
  try {
    fn();
  } catch (err) {
    return err as RpcError;
  }
  throw new Error('accepted');
}

describe('planListing', () => {
  it('lists every region by default with 50 per page', () => {
    const plan = planListing(create(ListDeadLettersRequestSchema, {}), regions);
    expect(plan.regions.map((r) => r.name)).toEqual(['us-east', 'eu-west']);
    expect(plan.pageSize).toBe(50);
    expect(plan.cursor).toBeUndefined();
  });

  it('continues where a page token points, only for the same listing', () => {
    const token = encodePageToken({ selection: '', region: 'eu-west', partition: 0, offset: 42n });
    expect(planListing(create(ListDeadLettersRequestSchema, { pageToken: token }), regions).cursor).toEqual({
      selection: '',
      region: 'eu-west',
      partition: 0,
      offset: 42n,
    });
    expect(
      refusal(() => planListing(create(ListDeadLettersRequestSchema, { region: 'eu-west', pageToken: token }), regions))
        .message,
    ).toMatch(/^page_token: belongs to a listing/);
  });

  it.each([
    [{ region: 'mars' }, status.NOT_FOUND, 'region: unknown region "mars"'],
    [{ pageSize: 501 }, status.INVALID_ARGUMENT, 'page_size: at most 500, got 501'],
    [{ pageToken: 'garbage' }, status.INVALID_ARGUMENT, 'page_token: not a token this server handed out'],
    [
      { timeRange: { sinceTime: timestampFromDate(new Date(2000)), untilTime: timestampFromDate(new Date(1000)) } },
      status.INVALID_ARGUMENT,
      'time_range.until_time: must be after since_time',
    ],
  ])('refuses bad listing request %#', (init, code, message) => {
    const err = refusal(() => planListing(create(ListDeadLettersRequestSchema, init), regions));
    expect(err.code).toBe(code);
    expect(err.message).toContain(message);
  });
});

describe('planReplay and replayRanges', () => {
  const dlq = [
    { partition: 0, start: 5n, end: 20n },
    { partition: 1, start: 0n, end: 3n },
  ];

  it('replays the whole DLQ when no range is given', () => {
    const plan = planReplay(create(ReplayDeadLettersRequestSchema, { region: 'us-east' }), regions);
    expect(replayRanges(plan, dlq)).toEqual([
      { topic: 'fabric.inval.us-east.dlq', partition: 0, from: 5n, to: 20n },
      { topic: 'fabric.inval.us-east.dlq', partition: 1, from: 0n, to: 3n },
    ]);
  });

  it('clips an inclusive offset range to what the partition still holds', () => {
    const plan = planReplay(
      create(ReplayDeadLettersRequestSchema, {
        region: 'us-east',
        range: { case: 'offsets', value: { partition: 0, fromOffset: 2n, toOffset: 10n } },
      }),
      regions,
    );
    expect(replayRanges(plan, dlq)).toEqual([{ topic: 'fabric.inval.us-east.dlq', partition: 0, from: 5n, to: 11n }]);
    const beyond = planReplay(
      create(ReplayDeadLettersRequestSchema, {
        region: 'us-east',
        range: { case: 'offsets', value: { fromOffset: 100n } },
      }),
      regions,
    );
    expect(replayRanges(beyond, dlq).every((r) => r.from === r.to)).toBe(true);
  });

  it('turns a time range into criteria and keeps dry run and force', () => {
    const since = new Date('2024-01-01T00:00:00Z');
    const plan = planReplay(
      create(ReplayDeadLettersRequestSchema, {
        region: 'eu-west',
        range: { case: 'timeRange', value: { sinceTime: timestampFromDate(since) } },
        dryRun: true,
        force: true,
        filter: { component: 'invalidator' },
      }),
      regions,
    );
    expect(plan.criteria).toMatchObject({ since, until: undefined, component: 'invalidator' });
    expect(plan).toMatchObject({ dryRun: true, force: true, fromOffset: 0n, toOffset: undefined });
  });

  it.each([
    [{}, status.INVALID_ARGUMENT, 'region: name the region'],
    [{ region: 'mars' }, status.NOT_FOUND, 'region: unknown region "mars"'],
    [
      { region: 'us-east', range: { case: 'offsets' as const, value: { fromOffset: -1n } } },
      status.INVALID_ARGUMENT,
      'offsets.from_offset: must not be negative',
    ],
    [
      { region: 'us-east', range: { case: 'offsets' as const, value: { partition: -2 } } },
      status.INVALID_ARGUMENT,
      'offsets.partition: must not be negative',
    ],
    [
      { region: 'us-east', range: { case: 'offsets' as const, value: { fromOffset: 9n, toOffset: 3n } } },
      status.INVALID_ARGUMENT,
      'offsets.to_offset: 3 is before from_offset 9',
    ],
  ])('refuses bad replay request %#', (init, code, message) => {
    const err = refusal(() => planReplay(create(ReplayDeadLettersRequestSchema, init), regions));
    expect(err.code).toBe(code);
    expect(err.message).toContain(message);
  });

  it('refuses a partition the DLQ does not have', () => {
    const plan = planReplay(
      create(ReplayDeadLettersRequestSchema, {
        region: 'us-east',
        range: { case: 'offsets', value: { partition: 7 } },
      }),
      regions,
    );
    expect(refusal(() => replayRanges(plan, dlq)).message).toBe(
      'offsets.partition: fabric.inval.us-east.dlq has no partition 7 (it has 2)',
    );
  });
});

describe('page tokens', () => {
  it('round-trip and refuse tampering', () => {
    const cursor = { selection: 'us-east', region: 'us-east', partition: 2, offset: 12345678901234n };
    expect(decodePageToken(encodePageToken(cursor))).toEqual(cursor);
    const forged = Buffer.from(JSON.stringify({ s: '', r: 'x', p: 0, o: '-1' })).toString('base64url');
    expect(() => decodePageToken(forged)).toThrow('page_token');
  });
});
