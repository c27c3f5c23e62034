import {
  create,
  DeadLetterSchema,
  InvalidationEventSchema,
  Operation,
  ReplayOutcome,
  timestampFromDate,
  toBinary,
} from '@fabric/proto';
import { describe, expect, it } from 'vitest';
import { matchesCriteria, viewDeadLetter } from '../src/dead-letter-view.js';
import type { RegionKafka } from '../src/region-kafka.js';
import { parseSettlement, ReplayLedger } from '../src/replay-ledger.js';
import { decideReplay, ReplayTally } from '../src/replay-tally.js';
import type { ScannedRecord } from '../src/topic-scan.js';

const kafkaTime = new Date('2024-05-01T12:00:05Z');
const failedTime = new Date('2024-05-01T12:00:00Z');
const event = create(InvalidationEventSchema, {
  id: 'eu-west:0/16:0',
  region: 'eu-west',
  table: 'public.users',
  operation: Operation.UPDATE,
  keys: ['user:1'],
});

function record(offset: number, value: Uint8Array | null): ScannedRecord {
  return { partition: 0, offset: BigInt(offset), time: kafkaTime, key: null, value: value && Buffer.from(value) };
}

function deadLetter(init: Parameters<typeof create<typeof DeadLetterSchema>>[1]): Uint8Array {
  return toBinary(
    DeadLetterSchema,
    create(DeadLetterSchema, { region: 'eu-west', failedTime: timestampFromDate(failedTime), ...init }),
  );
}

const invalidatorLetter = deadLetter({
  component: 'invalidator',
  reason: 'Redis timeout after 5 attempts',
  original: toBinary(InvalidationEventSchema, event),
  attempts: 5,
});
const readerLetter = deadLetter({
  component: 'cdc-reader',
  reason: 'column email missing',
  table: 'public.users',
  change: '{"id":1}',
});

describe('viewDeadLetter', () => {
  it('decodes the original event of an invalidator dead letter as replayable', () => {
    const view = viewDeadLetter(record(3, invalidatorLetter));
    expect(view).toMatchObject({
      offset: 3n,
      replayable: true,
      notReplayableReason: '',
      failedAt: failedTime,
      kafkaTime,
    });
    expect(view.event?.id).toBe('eu-west:0/16:0');
  });

  it.each([
    [readerLetter, 'no original event (cdc-reader)'],
    [
      deadLetter({ component: 'invalidator', original: new Uint8Array([0xff, 0xff, 0xff]) }),
      'original is not a decodable InvalidationEvent',
    ],
    [
      deadLetter({
        component: 'invalidator',
        original: toBinary(InvalidationEventSchema, create(InvalidationEventSchema, { table: 'x' })),
      }),
      'original has no event id',
    ],
    [
      deadLetter({
        component: 'invalidator',
        original: toBinary(
          InvalidationEventSchema,
          create(InvalidationEventSchema, { id: 'x', operation: Operation.UPDATE }),
        ),
      }),
      'original holds no cache operation',
    ],
    [new Uint8Array([0x0a, 0xff]), 'not a DeadLetter'],
    [null, 'empty DLQ record'],
  ])('refuses to replay %#, saying why', (value, reason) => {
    const view = viewDeadLetter(record(0, value));
    expect(view.replayable).toBe(false);
    expect(view.notReplayableReason).toContain(reason);
  });

  it.each([
    [
      { kind: 'update', table: 'public.users' },
      'public.users',
      'no key rule could render the change; fix the key rules',
    ],
    [{ kind: 'truncate', table: 'public.users' }, 'public.users', 'no truncate rule rendered'],
    [{ kind: 'message', lsn: '0/1', payload: '{' }, '', "the application's explicit invalidation was refused"],
    [
      { kind: 'insert', table: 'fabric.outbox' },
      'fabric.outbox',
      "the application's explicit invalidation was refused",
    ],
    [{ kind: 'relay', lsn: '0/1', payload: '{}' }, 'fabric.outbox', 'could not relay it to the others'],
  ])('tells what to do for a reader-side %j instead of a replay', (change, table, hint) => {
    const view = viewDeadLetter(
      record(0, deadLetter({ component: 'cdc-reader', reason: 'r', table, change: JSON.stringify(change) })),
    );
    expect(view.notReplayableReason).toContain(hint);
    expect(view.notReplayableReason).toMatch(/, then resolve it$/);
  });

  it('points undecodable bytes at their producer, not at a replay', () => {
    const view = viewDeadLetter(
      record(
        0,
        deadLetter({
          component: 'invalidator',
          original: new Uint8Array([0x0a, 0xff]),
          sourceTopic: 'fabric.inval.eu-west',
          sourcePartition: 1,
        }),
      ),
    );
    expect(view.notReplayableReason).toMatch(
      /^original is not a decodable InvalidationEvent \(.*\): not replayable; check the producer of fabric\.inval\.eu-west\[1\], then resolve it$/,
    );
  });

  it('falls back to the Kafka time when the writer left failed_time unset', () => {
    expect(
      viewDeadLetter(record(0, toBinary(DeadLetterSchema, create(DeadLetterSchema, { component: 'x' })))).failedAt,
    ).toEqual(kafkaTime);
  });
});

describe('matchesCriteria', () => {
  const view = viewDeadLetter(record(0, invalidatorLetter));
  const none = { component: '', reasonContains: '', table: '', since: undefined, until: undefined };
  it.each([
    [none, true],
    [{ ...none, component: 'invalidator' }, true],
    [{ ...none, component: 'cdc-reader' }, false],
    [{ ...none, reasonContains: 'redis TIMEOUT' }, true],
    [{ ...none, reasonContains: 'disk' }, false],
    [{ ...none, table: 'public.users' }, true],
    [{ ...none, table: 'public.teams' }, false],
    [{ ...none, since: failedTime }, true],
    [{ ...none, since: new Date(failedTime.getTime() + 1) }, false],
    [{ ...none, until: failedTime }, false],
    [{ ...none, until: new Date(failedTime.getTime() + 1) }, true],
  ])('%j -> %s', (criteria, expected) => expect(matchesCriteria(view, criteria)).toBe(expected));
});

describe('decideReplay and ReplayTally', () => {
  const replayable = viewDeadLetter(record(1, invalidatorLetter));
  const notReplayable = viewDeadLetter(record(2, readerLetter));
  const replayedByOps = { state: 'replayed' as const, by: 'ops', at: undefined, note: '' };
  const resolvedByOps = { state: 'resolved' as const, by: 'ops', at: undefined, note: 'producer fixed' };

  it('skips what was replayed unless forced, refuses what cannot be replayed, publishes nothing on a dry run', () => {
    expect(decideReplay(replayable, { settled: undefined, force: false, dryRun: false })).toEqual({
      action: 'publish',
    });
    expect(decideReplay(replayable, { settled: replayedByOps, force: false, dryRun: false })).toMatchObject({
      outcome: ReplayOutcome.ALREADY_REPLAYED,
    });
    expect(decideReplay(replayable, { settled: replayedByOps, force: true, dryRun: false })).toEqual({
      action: 'publish',
    });
    expect(decideReplay(replayable, { settled: undefined, force: false, dryRun: true })).toMatchObject({
      outcome: ReplayOutcome.WOULD_REPLAY,
    });
    expect(decideReplay(replayable, { settled: resolvedByOps, force: false, dryRun: false })).toMatchObject({
      outcome: ReplayOutcome.RESOLVED,
      reason: expect.stringContaining('resolved by ops: producer fixed'),
    });
    expect(decideReplay(replayable, { settled: resolvedByOps, force: true, dryRun: false })).toEqual({
      action: 'publish',
    });
    expect(decideReplay(notReplayable, { settled: undefined, force: true, dryRun: false })).toMatchObject({
      outcome: ReplayOutcome.NOT_REPLAYABLE,
      reason: expect.stringContaining('cdc-reader'),
    });
  });

  it('counts outcomes and hands each item over once', () => {
    const tally = new ReplayTally(4n, false);
    for (let i = 0; i < 4; i++) tally.scannedOne();
    tally.note(replayable, ReplayOutcome.REPLAYED, '');
    tally.note(replayable, ReplayOutcome.ALREADY_REPLAYED, 'before');
    const first = tally.progress(false);
    tally.note(notReplayable, ReplayOutcome.NOT_REPLAYABLE, 'no original');
    const last = tally.progress(true);
    expect(first).toMatchObject({
      total: 4n,
      scanned: 4n,
      matched: 2n,
      replayed: 1n,
      skipped: 1n,
      notReplayable: 0n,
      done: false,
    });
    expect(first.items).toHaveLength(2);
    expect(last).toMatchObject({
      matched: 3n,
      replayed: 1n,
      skipped: 1n,
      notReplayable: 1n,
      done: true,
      dryRun: false,
    });
    expect(last.items).toEqual([
      { partition: 0, offset: 2n, outcome: ReplayOutcome.NOT_REPLAYABLE, reason: 'no original', eventId: '' },
    ]);
  });
});

describe('ReplayLedger.pending', () => {
  it('counts dead letters still in the DLQ that no replay published', async () => {
    const published: string[] = [];
    // Only the Kafka calls record() makes: create the ledger topic, publish its records.
    const kafka = {
      admin: async (_what: string, work: (admin: unknown) => Promise<unknown>) =>
        work({ createTopics: async () => true }),
      publish: async (_topic: string, records: Array<{ key: string }>) => {
        published.push(...records.map((r) => r.key));
        return [];
      },
    } as unknown as RegionKafka;
    const scanner = { scan: async () => 0n };
    const ledger = new ReplayLedger(kafka, scanner, 'fabric.inval.eu-west.dlq.replayed');
    await ledger.record(
      [
        { partition: 0, offset: 3n, eventId: 'a' },
        { partition: 0, offset: 7n, eventId: 'b' },
        { partition: 1, offset: 0n, eventId: 'c' },
      ],
      'ops',
    );
    expect(published).toEqual(['0:3', '0:7', '1:0']);
    expect(ledger.settlement(0, 7n)).toMatchObject({ state: 'replayed', by: 'ops' });
    expect(ledger.settlement(1, 7n)).toBeUndefined();
    // Partition 0 holds offsets 5..9 now (3 was removed by retention): 5 minus the replayed 7.
    expect(
      ledger.pending([
        { partition: 0, start: 5n, end: 10n },
        { partition: 1, start: 0n, end: 2n },
      ]),
    ).toBe(4n + 1n);
    // A resolution takes a dead letter out of the depth like a replay does.
    await ledger.resolve([{ partition: 0, offset: 5n }], 'ops', 'garbage from a test producer');
    expect(ledger.settlement(0, 5n)).toMatchObject({
      state: 'resolved',
      by: 'ops',
      note: 'garbage from a test producer',
    });
    expect(ledger.pending([{ partition: 0, start: 5n, end: 10n }])).toBe(3n);
    expect(published).toEqual(['0:3', '0:7', '1:0', '0:5']);
  });
});

describe('parseSettlement', () => {
  it.each([
    ['{"replayedAt":"2024-05-01T12:00:00.000Z","eventId":"e","by":"ops"}', { state: 'replayed', by: 'ops', note: '' }],
    ['{"resolvedAt":"2024-05-01T12:00:00.000Z","by":"ops","note":"n"}', { state: 'resolved', by: 'ops', note: 'n' }],
    // The key alone always meant "replayed": a value that does not parse stays a replay.
    ['not json', { state: 'replayed', by: '', note: '', at: undefined }],
  ])('%s', (value, expected) => expect(parseSettlement(Buffer.from(value))).toMatchObject(expected));
});
