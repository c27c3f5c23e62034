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
      create(InvalidationEventSchema, { id: 'm1', operation: Operation.MANUAL, ...fields }),
    ),
  );

/** The control plane checks its requests, but the topic has other writers (replays, tools, forgeries). */
describe('the invalidator refuses unguarded patterns whatever their source', () => {
  it.each(['*', '*:*', '*e*', '?ser:*', '[uv]*'])('a MANUAL event with %j and no force is a dead letter', (pattern) => {
    const d = decodeInvalidation(encode({ patterns: [pattern] }));
    expect(d).toMatchObject({ ok: false, cause: 'invalid' });
    expect(!d.ok && d.reason).toContain('has no literal prefix');
  });

  it('applies the rest of an event and rejects only its unguarded pattern', () => {
    const d = decodeInvalidation(encode({ keys: ['user:1'], patterns: ['user:*', '*:*'] }));
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.event.patterns).toEqual(['user:*']);
    expect(d.event.keys).toEqual(['user:1']);
    expect(d.rejected).toContain('patterns[1] "*:*" has no literal prefix');
  });

  it("expands it when the operator forced it (the control plane's force)", () => {
    expect(decodeInvalidation(encode({ patterns: ['*'], force: true }))).toMatchObject({ ok: true });
  });

  it('honours force on MANUAL events only', () => {
    expect(decodeInvalidation(encode({ operation: Operation.MESSAGE, patterns: ['*'], force: true }))).toMatchObject({
      ok: false,
    });
    const resync = encode({
      operation: Operation.RESYNC,
      patterns: ['*e*'],
      force: true,
      resync: create(ResyncSchema, { id: 'r1', reason: 'operator' }),
    });
    expect(decodeInvalidation(resync)).toMatchObject({ ok: false, cause: 'invalid' });
  });
});
