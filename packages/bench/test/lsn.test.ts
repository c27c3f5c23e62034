import { describe, expect, it } from 'vitest';
import { lsnReached, lsnToBig } from '../src/lsn.js';
import { parsePgbenchOutput } from '../src/pgbench.js';

describe('LSNs', () => {
  it('compares across the 32-bit boundary', () => {
    expect(lsnToBig('1/0')).toBe(1n << 32n);
    expect(lsnToBig('0/FFFFFFFF') < lsnToBig('1/0')).toBe(true);
    expect(lsnReached('16/B374D848', '16/B374D848')).toBe(true);
    expect(lsnReached('16/B374D847', '16/B374D848')).toBe(false);
    expect(lsnReached(undefined, '0/1')).toBe(false);
  });
});

describe('pgbench output', () => {
  it('reads tps, transactions and latency', () => {
    const out =
      'number of transactions actually processed: 40398\nlatency average = 3.870 ms\ntps = 4135.123 (without initial connection time)\n';
    expect(parsePgbenchOutput(out)).toEqual({ tps: 4135.123, txns: 40398, latencyMs: 3.87 });
    expect(Number.isNaN(parsePgbenchOutput('').tps)).toBe(true);
  });
});
