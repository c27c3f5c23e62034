import { describe, expect, it } from 'vitest';
import { CommitLog, countStaleReads, valueSeq } from '../src/sdk/stale-reads.js';

describe('stale reads of the driven race', () => {
  it('orders writer values and the seed', () => {
    expect(valueSeq('v12')).toBe(12);
    expect(valueSeq('s42')).toBe(0);
    expect(valueSeq('f1:2')).toBeNull();
  });

  it('counts a read stale only when a newer value had committed more than the grace before it', () => {
    const log = new CommitLog();
    log.committed(1, 'v5', 1000);
    log.committed(1, 'v9', 2000);
    const grace = 500;
    const reads = [
      { id: 1, value: 's1', t: 1200 }, // v5 committed 200 ms before: inside the grace
      { id: 1, value: 's1', t: 1600 }, // v5 committed 600 ms before: stale
      { id: 1, value: 'v5', t: 2400 }, // v9 400 ms before: inside the grace
      { id: 1, value: 'v5', t: 2600 }, // stale
      { id: 1, value: 'v9', t: 9000 }, // fresh
      { id: 2, value: 's2', t: 9000 }, // never written: fresh
      { id: 1, value: 'garbage', t: 0 }, // not a value the writer or seed wrote
    ];
    expect(countStaleReads(log, reads, grace)).toBe(3);
  });

  it('takes the newest committed value even when commits returned out of order', () => {
    const log = new CommitLog();
    log.committed(1, 'v9', 1000);
    log.committed(1, 'v7', 1001);
    expect(log.settledSeq(1, 2000)).toBe(9);
    expect(() => log.committed(1, 'x', 0)).toThrow(/not a writer value/);
  });
});
