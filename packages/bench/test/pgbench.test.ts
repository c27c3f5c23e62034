import { describe, expect, it } from 'vitest';
import { parsePgbenchOutput } from '../src/pgbench.js';

describe('pgbench output', () => {
  it('reads tps, transactions and latency', () => {
    const out =
      'number of transactions actually processed: 40398\nlatency average = 3.870 ms\ntps = 4135.123 (without initial connection time)\n';
    expect(parsePgbenchOutput(out)).toEqual({ tps: 4135.123, txns: 40398, latencyMs: 3.87 });
    expect(Number.isNaN(parsePgbenchOutput('').tps)).toBe(true);
  });
});
