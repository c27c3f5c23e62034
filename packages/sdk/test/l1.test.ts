import { describe, expect, it } from 'vitest';
import { CacheOptionsError } from '../src/errors.js';
import { L1Cache } from '../src/l1.js';

const make = (over: Partial<ConstructorParameters<typeof L1Cache>[0]> = {}) => {
  let now = 1_000;
  const l1 = new L1Cache({ maxEntries: 3, maxBytes: 100, maxTtlMs: 10_000, now: () => now, ...over });
  return { l1, tick: (ms: number) => (now += ms) };
};

describe('L1Cache', () => {
  it('evicts the least recently used entry beyond maxEntries', () => {
    const { l1 } = make();
    for (const k of ['a', 'b', 'c']) l1.insert(k, `"${k}"`, l1.ticket(), 60_000);
    l1.get('a');
    l1.insert('d', '"d"', l1.ticket(), 60_000);
    expect(l1.get('b')).toBeUndefined();
    expect([l1.get('a'), l1.get('c'), l1.get('d')]).toEqual(['"a"', '"c"', '"d"']);
    expect(l1.stats.evictions).toBe(1);
  });

  it('stays within maxBytes and refuses a payload larger than the whole budget', () => {
    const { l1 } = make({ maxEntries: 100, maxBytes: 10 });
    l1.insert('a', 'xxxxxx', l1.ticket(), 60_000);
    l1.insert('b', 'yyyyyy', l1.ticket(), 60_000);
    expect(l1.byteSize).toBeLessThanOrEqual(10);
    expect(l1.get('a')).toBeUndefined();
    expect(l1.insert('c', 'z'.repeat(11), l1.ticket(), 60_000)).toBe(false);
  });

  it('never keeps an entry longer than L2 had left, nor than maxTtlMs', () => {
    const { l1, tick } = make();
    l1.insert('short', '1', l1.ticket(), 500);
    l1.insert('long', '2', l1.ticket(), 60_000);
    tick(600);
    expect(l1.get('short')).toBeUndefined();
    expect(l1.get('long')).toBe('2');
    tick(10_000);
    expect(l1.get('long')).toBeUndefined();
  });

  it('refuses an insert whose read started before an invalidation of its key, tag or version', () => {
    const { l1 } = make({ maxEntries: 10 });
    for (const [what, meta] of [
      [{ keys: ['k'] }, {}],
      [{ tags: ['team:7'] }, { tags: ['team:7'] }],
      [{ versions: ['ver:user:1'] }, { versionKey: 'ver:user:1' }],
    ] as const) {
      const ticket = l1.ticket();
      l1.invalidate(what);
      expect(l1.insert('k', '"old"', ticket, 60_000, meta)).toBe(false);
      // Read after the invalidation: accepted.
      expect(l1.insert('k', '"new"', l1.ticket(), 60_000, meta)).toBe(true);
      l1.invalidate(what);
      expect(l1.get('k')).toBeUndefined();
    }
    // Unrelated invalidations do not refuse it.
    const ticket = l1.ticket();
    l1.invalidate({ keys: ['other'], tags: ['t'] });
    expect(l1.insert('k', '"v"', ticket, 60_000)).toBe(true);
    expect(l1.stats.refusedInserts).toBe(3);
  });

  it('after a flush, and past its memory of invalidations, refuses every older read', () => {
    const { l1 } = make({ recentInvalidations: 2 });
    const before = l1.ticket();
    l1.flush();
    expect(l1.insert('k', '1', before, 60_000)).toBe(false);
    const t = l1.ticket();
    l1.invalidate({ keys: ['x', 'y', 'z'] }); // forgets x: can no longer tell whether t's key was it
    expect(l1.insert('x', '1', t, 60_000)).toBe(false);
    expect(l1.insert('x', '1', l1.ticket(), 60_000)).toBe(true);
  });

  it('rejects bounds that cannot work, naming the option', () => {
    expect(() => new L1Cache({ maxEntries: 0, maxBytes: 1, maxTtlMs: 1 })).toThrow(CacheOptionsError);
    expect(() => new L1Cache({ maxEntries: 1, maxBytes: 1, maxTtlMs: Number.NaN })).toThrow(/l1.maxTtlMs/);
  });
});
