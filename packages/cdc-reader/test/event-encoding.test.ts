import { create, InvalidationEventSchema, Operation, ResyncSchema, timestampFromDate, toBinary } from '@fabric/proto';
import { describe, expect, it } from 'vitest';
import { encodeInvalidationEvent } from '../src/event-encoding.js';

type Init = Parameters<typeof create<typeof InvalidationEventSchema>>[1];

const event = (init: Init) => create(InvalidationEventSchema, init);

const typical: Init = {
  id: 'us-east:0/16B3748:0',
  region: 'us-east',
  sourceLsn: '0/16B3748',
  primaryLsn: '0/16B3748',
  primaryCommitTime: timestampFromDate(new Date('2026-12-01T11:24:43.439Z')),
  table: 'public.users',
  operation: Operation.UPDATE,
  keys: ['user:42', 'user:42:profile', 'user:email:a@example.com'],
  tags: ['team:7:members'],
  versions: ['ver:user:42'],
  emittedTime: timestampFromDate(new Date('2026-12-01T11:24:43.441Z')),
};

describe('encodeInvalidationEvent', () => {
  const cases: Array<[string, Init]> = [
    ['a typical update', typical],
    ['an empty event', {}],
    ['no commit time (a non-transactional message)', { ...typical, primaryCommitTime: undefined }],
    ['a zero timestamp (present, empty)', { ...typical, emittedTime: { seconds: 0n, nanos: 0 } }],
    ['negative seconds and nanos', { ...typical, primaryCommitTime: { seconds: -62135596800n, nanos: -1 } }],
    ['seconds beyond 2^53', { ...typical, emittedTime: { seconds: 2n ** 60n + 5n, nanos: 999_999_999 } }],
    ['multi-byte text', { ...typical, keys: ['user:email:ünïcødé@例え.jp', '🔑'], table: 'public.ユーザー' }],
    ['empty strings in lists (written, unlike empty fields)', { ...typical, keys: ['', 'a'], tags: [''] }],
    ['a long key (two-byte lengths)', { ...typical, keys: ['k'.repeat(300), 'x'.repeat(20_000)] }],
    ['patterns, force, heartbeat', { ...typical, operation: Operation.HEARTBEAT, patterns: ['user:*'], force: true }],
    ['an unknown operation number', { ...typical, operation: 99 as Operation }],
  ];
  for (const [name, init] of cases) {
    it(`writes what toBinary writes: ${name}`, () => {
      const e = event(init);
      expect(Buffer.from(encodeInvalidationEvent(e)).toString('hex')).toBe(
        Buffer.from(toBinary(InvalidationEventSchema, e)).toString('hex'),
      );
    });
  }

  it('leaves a resync to toBinary', () => {
    const e = event({ ...typical, operation: Operation.RESYNC, resync: create(ResyncSchema, { id: 'r1', copies: 3 }) });
    expect(encodeInvalidationEvent(e)).toEqual(toBinary(InvalidationEventSchema, e));
  });

  it('leaves unknown fields to toBinary', () => {
    const e = event(typical);
    e.$unknown = [{ no: 99, wireType: 0, data: new Uint8Array([1]) }];
    expect(encodeInvalidationEvent(e)).toEqual(toBinary(InvalidationEventSchema, e));
  });
});
