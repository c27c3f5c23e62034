import {
  create,
  type InvalidationEvent,
  InvalidationEventSchema,
  Operation,
  ResyncSchema,
  toBinary,
} from '@fabric/proto';
import { describe, expect, it } from 'vitest';
import { decodeInvalidation } from '../src/decode.js';

const encode = (fields: Partial<InvalidationEvent>) =>
  Buffer.from(
    toBinary(
      InvalidationEventSchema,
      create(InvalidationEventSchema, { id: 'e1', operation: Operation.UPDATE, ...fields }),
    ),
  );

describe('decodeInvalidation', () => {
  it('keeps the valid entries of an event and names each invalid one by field and index', () => {
    const d = decodeInvalidation(encode({ table: 'public.users', keys: ['user:1', ''], tags: ['t'], versions: [''] }));
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect([d.event.keys, d.event.tags, d.event.versions, d.event.table]).toEqual([
      ['user:1'],
      ['t'],
      [],
      'public.users',
    ]);
    expect(d.rejected).toBe(
      'invalid entries of event e1, dead-lettered apart from the rest: keys[1] is empty, versions[0] is empty',
    );
  });

  it('says nothing was rejected when every entry is valid', () => {
    const d = decodeInvalidation(encode({ keys: ['a'] }));
    expect(d).toMatchObject({ ok: true });
    expect(d.ok && d.rejected).toBeUndefined();
  });

  it('rejects the whole event when no entry is left to apply', () => {
    expect(decodeInvalidation(encode({ keys: ['', ''] }))).toEqual({
      ok: false,
      cause: 'invalid',
      reason: 'invalid event e1: keys[0] is empty, keys[1] is empty',
    });
  });

  it('rejects a whole RESYNC with an invalid entry: a recovery run in part would mark the gap repaired', () => {
    const d = decodeInvalidation(
      encode({
        operation: Operation.RESYNC,
        patterns: ['user:*', ''],
        resync: create(ResyncSchema, { id: 'r1', reason: 'slot-recreated' }),
      }),
    );
    expect(d).toEqual({ ok: false, cause: 'invalid', reason: 'invalid event e1: patterns[1] is empty' });
  });
});
