import { describe, expect, it } from 'vitest';
import { judgeKeepUp, type KeepUpSample } from '../src/keep-up-judge.js';

const WAL_PER_CHANGE = 300;

/**
 * One sample a second for `seconds`: the primary at `rate` changes/s, the reader confirming
 * at `readerRate` and the invalidator applying at `appliedRate`, each `lagMs` behind; a
 * tenth of the changes alter nothing the rules render, so they publish no event.
 */
function run(seconds: number, rate: number, readerRate: number, appliedRate: number, lagMs = 300): KeepUpSample[] {
  return Array.from({ length: seconds + 1 }, (_, t) => {
    const behind = Math.max(0, t * 1000 - lagMs) / 1000;
    return {
      atMs: t * 1000,
      wal: t * rate * WAL_PER_CHANGE,
      confirmed: behind * readerRate * WAL_PER_CHANGE,
      published: Math.round(behind * readerRate * 0.9),
      applied: Math.round(Math.max(0, behind - lagMs / 1000) * Math.min(readerRate, appliedRate) * 0.9),
    };
  });
}

describe('keeping up with the primary', () => {
  it('a region a steady few hundred ms behind keeps up: ratio 1.0 however far behind it ends, skipped changes aside', () => {
    const j = judgeKeepUp(run(20, 6000, 6000, 6000));
    expect(j.readerRatio).toBeCloseTo(1, 2);
    expect(j.invalidatorRatio).toBeCloseTo(1, 2);
    expect(j.ratio).toBeCloseTo(1, 2);
    expect(j.walRate).toBeCloseTo(6000 * WAL_PER_CHANGE, -2);
    expect(j.keptUp).toBe(true);
    // It still ends the run behind: what a ratio of totals would have counted against it.
    expect(j.invalidatorBacklog.at(-1)).toBeGreaterThan(1000);
  });

  it('an invalidator applying at two thirds of what is published falls behind, and says which link', () => {
    const j = judgeKeepUp(run(20, 6000, 6000, 4000));
    expect(j.invalidatorRatio).toBeCloseTo(4000 / 6000, 2);
    expect(j.ratio).toBeCloseTo(4000 / 6000, 2);
    expect(j.keptUp).toBe(false);
    expect(j.reason).toMatch(/^invalidator: backlog growing/);
  });

  it('a reader at half the primary rate holds the whole region to half, whatever the invalidator does', () => {
    const j = judgeKeepUp(run(20, 6000, 3000, 6000));
    expect(j.readerRatio).toBeCloseTo(0.5, 2);
    expect(j.invalidatorRatio).toBeCloseTo(1, 2);
    expect(j.ratio).toBeCloseTo(0.5, 2);
    expect(j.reason).toMatch(/^reader: backlog growing/);
  });

  it('needs samples and commits to judge at all', () => {
    expect(judgeKeepUp(run(2, 6000, 6000, 6000))).toMatchObject({ keptUp: false, reason: 'too few samples' });
    expect(judgeKeepUp(run(10, 0, 0, 0))).toMatchObject({ keptUp: false, reason: 'nothing committed', ratio: 0 });
  });
});
