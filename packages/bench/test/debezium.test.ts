import { describe, expect, it } from 'vitest';
import { renderDebezium } from '../src/debezium-report.js';
import { parseProbeLine, streamStats } from '../src/debezium-stats.js';
import type { DebeziumResult } from '../src/phases/debezium.js';
import { summarize } from '../src/stats.js';

describe('Debezium probe output', () => {
  it('parses change lines and ignores the rest', () => {
    expect(parseProbeLine('C 1700000000000 1700000000012')).toEqual({ commitMs: 1700000000000, seenMs: 1700000000012 });
    expect(parseProbeLine('C -1 5')).toEqual({ commitMs: -1, seenMs: 5 });
    expect(parseProbeLine('READY')).toBeNull();
    expect(parseProbeLine('[main] INFO io.debezium...')).toBeNull();
  });

  it('computes throughput over the seen span and latency of known commit times', () => {
    const s = streamStats([
      { commitMs: 0, seenMs: 10 },
      { commitMs: 100, seenMs: 120 },
      { commitMs: -1, seenMs: 1010 },
    ]);
    expect(s.changes).toBe(3);
    expect(s.rate).toBeCloseTo(3 / 1, 5);
    expect(s.latency.count).toBe(2);
    expect(s.latency.max).toBe(20);
    expect(streamStats([{ commitMs: 0, seenMs: 1 }]).rate).toBeNull();
  });

  it('renders the comparison tables', () => {
    const D: DebeziumResult = {
      version: '2.7.3.Final',
      pollIntervalMs: 5,
      live: {
        rate: 1000,
        durationMs: 10000,
        committed: 10000,
        achievedRate: 998,
        debezium: { changes: 10000, rate: 1001, latency: summarize([5, 6, 7]) },
        reader: { changes: 10000, rate: 995, publish: summarize([300, 400]), decode: summarize([100]) },
      },
      catchUp: { changes: 40000, pgbenchTps: 5000, startupMs: 3100, drainMs: 8000, rate: 5000, readerRate: 4800 },
    };
    const md = renderDebezium(D).join('\n');
    expect(md).toContain('| Debezium: commit → consumer | 10000 | 1001 | 6.0 | 7.0 | 7.0 | 7.0 |');
    expect(md).toContain('| our reader: commit → published to Kafka | 10000 | 995 | 300 | 400 | 400 | 400 |');
    expect(md).toContain('`poll.interval.ms=5`');
    expect(md).toContain('3100 ms until its streaming task ran');
    expect(md).toContain('| Debezium (decode only) | 5000 |');
    expect(md).toContain('| ours / Debezium | 0.96 |');
  });
});
