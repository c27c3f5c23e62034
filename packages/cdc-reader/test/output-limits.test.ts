import { DEFAULT_BYTE_LIMITS, eventKey } from '@fabric/contracts';
import {
  create,
  DeadLetterSchema,
  fromBinary,
  InvalidationEventSchema,
  Operation,
  timestampFromDate,
  toBinary,
} from '@fabric/proto';
import { describe, expect, it } from 'vitest';
import { eventBytes, OutputLimits, refusedDeadLetter } from '../src/output-limits.js';
import type { Output } from '../src/outputs.js';

const limits = new OutputLimits(DEFAULT_BYTE_LIMITS, 'eu-west', () => new Date(0));

function eventOutput(keys: string[], extra: { tags?: string[]; versions?: string[] } = {}): Output {
  const event = create(InvalidationEventSchema, {
    id: 'eu-west:0/16B3A08:0',
    region: 'eu-west',
    sourceLsn: '0/16B3A08',
    table: 'public.users',
    operation: Operation.UPDATE,
    primaryCommitTime: timestampFromDate(new Date(0)),
    keys,
    tags: extra.tags ?? [],
    versions: extra.versions ?? [],
  });
  return { kind: 'event', key: eventKey(event), event };
}

const events = (outs: Output[]) => outs.flatMap((o) => (o.kind === 'event' ? [o] : []));
const letters = (outs: Output[]) => outs.flatMap((o) => (o.kind === 'dead-letter' ? [o] : []));

describe('OutputLimits: events', () => {
  it('leaves an event within the limit as it is', () => {
    const out = eventOutput(['user:1', 'user:1:profile']);
    expect(limits.bound(out)).toEqual([out]);
  });

  it('judges exactly where the quick length bound cannot: multi-byte text near both limits', () => {
    // 'é' is one UTF-16 unit and two UTF-8 bytes: the bound (three bytes a unit) declines, the
    // exact path decides. Just within keyBytes goes whole; one byte over is a dead letter.
    const keyBytes = 1024;
    const near = new OutputLimits({ ...DEFAULT_BYTE_LIMITS, keyBytes, eventBytes: 4096 }, 'eu-west', () => new Date(0));
    const within = eventOutput(['é'.repeat(keyBytes / 2)]);
    expect(near.bound(within)).toEqual([within]);
    const over = eventOutput(['é'.repeat(keyBytes / 2) + 'x', 'user:1']);
    expect(letters(near.bound(over))).toHaveLength(1);
    // Three keys of ~1 KiB fit 4 KiB whole; five do not and are split.
    const three = eventOutput(Array.from({ length: 3 }, (_, i) => `${i}${'é'.repeat(500)}`));
    expect(near.bound(three)).toEqual([three]);
    const five = eventOutput(Array.from({ length: 5 }, (_, i) => `${i}${'é'.repeat(500)}`));
    expect(events(near.bound(five)).length).toBeGreaterThan(1);
  });

  it('splits 9,000 keys of 120 bytes (~1.1 MB) into parts below the event limit, every key once', () => {
    const keys = Array.from({ length: 9000 }, (_, i) => `user:${String(i).padStart(6, '0')}:${'k'.repeat(108)}`);
    expect(Buffer.byteLength(keys[0]!)).toBe(120);
    const out = eventOutput(keys, { tags: ['team:1:members'], versions: ['ver:user:1'] });
    expect(toBinary(InvalidationEventSchema, (out as { event: never }).event).byteLength).toBeGreaterThan(1_048_588);

    const splits: number[] = [];
    const observed = new OutputLimits(DEFAULT_BYTE_LIMITS, 'eu-west', () => new Date(0), {
      split: (_, n) => splits.push(n),
    });
    const parts = events(observed.bound(out));
    expect(parts.length).toBeGreaterThanOrEqual(3);
    expect(splits).toEqual([parts.length]);
    for (const part of parts) expect(eventBytes(part.event)).toBeLessThanOrEqual(DEFAULT_BYTE_LIMITS.eventBytes);
    expect(parts.flatMap((p) => p.event.keys)).toEqual(keys);
    expect(parts.flatMap((p) => p.event.tags)).toEqual(['team:1:members']);
    expect(parts.flatMap((p) => p.event.versions)).toEqual(['ver:user:1']);
    // Same change: same LSN, table and operation; ids numbered from the event's own.
    expect(parts.map((p) => p.event.id)).toEqual(parts.map((_, i) => `eu-west:0/16B3A08:0#${i + 1}`));
    for (const part of parts) {
      expect(part.event).toMatchObject({ sourceLsn: '0/16B3A08', table: 'public.users', operation: Operation.UPDATE });
      expect(part.key).toBe(eventKey(part.event));
    }
  });

  it('dead-letters a key above the key limit (it cannot be split) and still publishes the rest', () => {
    const huge = `blob:${'x'.repeat(200 * 1024)}`;
    const outs = limits.bound(eventOutput(['user:1', huge, 'user:2']));
    expect(events(outs).map((e) => e.event.keys)).toEqual([['user:1', 'user:2']]);
    const [letter] = letters(outs);
    expect(letter!.deadLetter.reason).toContain('above the key limit of 65536 bytes (--max-key-bytes)');
    expect(letter!.deadLetter.reason).toContain(`keys[1] is ${Buffer.byteLength(huge)} bytes`);
    expect(letter!.deadLetter).toMatchObject({
      table: 'public.users',
      sourceLsn: '0/16B3A08',
      component: 'cdc-reader',
    });
    const change = JSON.parse(letter!.deadLetter.change);
    expect(change.entries[0]).toMatchObject({ field: 'keys', index: 1, bytes: Buffer.byteLength(huge) });
    expect(change.entries[0].start).toHaveLength(256);
  });

  it('an event of oversized keys only is a dead letter and nothing else', () => {
    const outs = limits.bound(eventOutput([`a:${'x'.repeat(70_000)}`]));
    expect(events(outs)).toEqual([]);
    expect(letters(outs)).toHaveLength(1);
  });
});

describe('OutputLimits: dead letters', () => {
  const deadLetter = (change: string): Output => ({
    kind: 'dead-letter',
    key: 'public.docs:dead-letter',
    deadLetter: create(DeadLetterSchema, {
      region: 'eu-west',
      component: 'cdc-reader',
      reason: 'no rule for the row',
      attempts: 1,
      change,
      table: 'public.docs',
      sourceLsn: '0/AB',
    }),
  });

  it('keeps a small dead letter whole', () => {
    const out = deadLetter(JSON.stringify({ kind: 'insert', newRow: { id: '1', body: 'short' } }));
    expect(limits.bound(out)).toEqual([out]);
  });

  it('keeps a reference (table, LSN, primary key, sizes) instead of a row body above the limit', () => {
    const change = JSON.stringify({
      kind: 'insert',
      table: 'public.docs',
      keyColumns: ['tenant', 'id'],
      newRow: { tenant: 't1', id: '42', body: 'b'.repeat(2 * 1024 * 1024) },
    });
    const [out] = limits.bound(deadLetter(change));
    if (out?.kind !== 'dead-letter') throw new Error('expected a dead letter');
    expect(toBinary(DeadLetterSchema, out.deadLetter).byteLength).toBeLessThan(DEFAULT_BYTE_LIMITS.deadLetterBytes);
    expect(JSON.parse(out.deadLetter.change)).toMatchObject({
      truncated: true,
      changeBytes: Buffer.byteLength(change),
      table: 'public.docs',
      sourceLsn: '0/AB',
      primaryKey: { tenant: 't1', id: '42' },
    });
    expect(out.deadLetter.reason).toMatch(/^no rule for the row \(the change itself is left out/);
  });
});

describe('refusedDeadLetter', () => {
  it('names what Kafka refused by reference: topic, key, size, the event id, table and LSN', () => {
    const out = eventOutput(['user:1']);
    const value = toBinary(InvalidationEventSchema, (out as { event: never }).event);
    const letter = refusedDeadLetter(
      'eu-west',
      { topic: 'fabric.inval.eu-west', key: 'user:1', value },
      'refused by kafka: MESSAGE_TOO_LARGE',
      'fabric.inval.eu-west.dlq',
    );
    expect(letter.topic).toBe('fabric.inval.eu-west.dlq');
    const decoded = fromBinary(DeadLetterSchema, letter.value);
    expect(decoded.reason).toContain('MESSAGE_TOO_LARGE');
    expect(decoded).toMatchObject({ table: 'public.users', sourceLsn: '0/16B3A08' });
    expect(JSON.parse(decoded.change)).toMatchObject({
      truncated: true,
      eventId: 'eu-west:0/16B3A08:0',
      refused: { topic: 'fabric.inval.eu-west', key: 'user:1', bytes: value.byteLength },
    });
    // Without room for it, only the reference.
    expect(decoded.original).toHaveLength(0);
  });

  it('keeps an event small enough for the limits as the original, so a replay delivers it once the topic is fixed', () => {
    const out = eventOutput(['user:1']);
    const value = toBinary(InvalidationEventSchema, (out as { event: never }).event);
    const refused = { topic: 'fabric.inval.eu-west', key: 'user:1', value };
    const dlq = 'fabric.inval.eu-west.dlq';
    const kept = fromBinary(
      DeadLetterSchema,
      refusedDeadLetter('eu-west', refused, 'too large', dlq, new Date(), 1024).value,
    );
    expect(kept.original).toEqual(value);
    const big = fromBinary(
      DeadLetterSchema,
      refusedDeadLetter('eu-west', refused, 'too large', dlq, new Date(), 8).value,
    );
    expect(big.original).toHaveLength(0);
  });
});
