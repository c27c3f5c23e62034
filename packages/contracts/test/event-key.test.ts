import { create, InvalidationEventSchema, Operation } from '@fabric/proto';
import { describe, expect, it } from 'vitest';
import { eventKey } from '../src/index.js';

const event = (init: Parameters<typeof create<typeof InvalidationEventSchema>>[1]) =>
  create(InvalidationEventSchema, { id: 'us-east:0/1:0', table: 'public.users', ...init });

describe('eventKey', () => {
  it('takes the first cache key, then tag, version key and pattern', () => {
    const all = { keys: ['k1', 'k2'], tags: ['t'], versions: ['v'], patterns: ['p*'] };
    expect(eventKey(event({ operation: Operation.UPDATE, ...all }))).toBe('k1');
    expect(eventKey(event({ operation: Operation.MESSAGE, ...all, keys: [] }))).toBe('t');
    expect(eventKey(event({ operation: Operation.MESSAGE, versions: ['v'], patterns: ['p*'] }))).toBe('v');
    expect(eventKey(event({ operation: Operation.MANUAL, table: '', patterns: ['p*'] }))).toBe('p*');
  });

  it('keys a TRUNCATE by its table, whatever it invalidates', () => {
    expect(eventKey(event({ operation: Operation.TRUNCATE, keys: ['k'], patterns: ['user:*'] }))).toBe('public.users');
  });

  it('falls back to the table, then the id, for an event without targets', () => {
    expect(eventKey(event({ operation: Operation.INSERT }))).toBe('public.users');
    expect(eventKey(event({ operation: Operation.MANUAL, table: '' }))).toBe('us-east:0/1:0');
  });
});
