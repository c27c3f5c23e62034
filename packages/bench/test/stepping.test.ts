import { describe, expect, it } from 'vitest';
import { judgeStep, nextRate } from '../src/stepping.js';

describe('rate stepping', () => {
  it('bounded backlog and p99 keeps up, and doubles', () => {
    const v = judgeStep({ target: 1000, achieved: 990, backlog: [100, 120, 90, 110, 100, 95], p99: 300 });
    expect(v).toMatchObject({ primaryKeptUp: true, fabricKeptUp: true });
    expect(nextRate(1000, v, 32000)).toBe(2000);
    expect(nextRate(32000, v, 32000)).toBeNull();
  });
  it('a growing backlog is not bounded', () => {
    const v = judgeStep({ target: 4000, achieved: 4000, backlog: [500, 2000, 5000, 9000, 14000, 20000], p99: 1500 });
    expect(v.fabricKeptUp).toBe(false);
    expect(nextRate(4000, v, 32000)).toBeNull();
  });
  it('p99 over the limit, or the primary below target, stops', () => {
    expect(judgeStep({ target: 1000, achieved: 1000, backlog: [1, 1, 1], p99: 2500 }).fabricKeptUp).toBe(false);
    const v = judgeStep({ target: 8000, achieved: 5000, backlog: [1, 1, 1], p99: 20 });
    expect(v.primaryKeptUp).toBe(false);
    expect(nextRate(8000, v, 32000)).toBeNull();
  });
});
