import { describe, expect, it } from 'vitest';
import { LatencyWindow } from '../src/latency-window.js';

describe('LatencyWindow', () => {
  it('answers nearest-rank percentiles over what was recorded within the window', () => {
    let now = 1_000_000;
    const w = new LatencyWindow({ windowMs: 60_000, now: () => now });
    expect(w.percentile(0.5)).toBeNull();
    for (let i = 1; i <= 100; i++) w.record(i);
    expect([w.percentile(0.5), w.percentile(0.99), w.percentile(1)]).toEqual([50, 99, 100]);
    expect(w.count).toBe(100);
    now += 30_000;
    for (let i = 0; i < 100; i++) w.record(1000);
    expect(w.percentiles([0.5, 0.51])).toEqual([100, 1000]);
    expect(w.count).toBe(200);
  });

  it('forgets a spike once its time has passed, and reports an idle window as empty, not as the spike', () => {
    let now = 5_000_000;
    const w = new LatencyWindow({ windowMs: 60_000, now: () => now });
    w.record(33_000);
    expect(w.percentile(0.99)).toBe(33_000);
    now += 59_000;
    expect(w.percentile(0.99)).toBe(33_000);
    now += 1_000;
    // Idle since the spike: nothing in the window, so nothing to report.
    expect(w.percentiles([0.5, 0.99])).toEqual([null, null]);
    expect(w.count).toBe(0);
    w.record(12);
    expect(w.percentile(0.99)).toBe(12);
  });

  it('reuses a bucket slot for a new interval without keeping the old samples', () => {
    let now = 0;
    const w = new LatencyWindow({ windowMs: 3_000, bucketMs: 1_000, now: () => now });
    w.record(500);
    now = 3_000; // the same slot (3 buckets), a new interval
    w.record(7);
    expect(w.percentile(1)).toBe(7);
    expect(w.count).toBe(1);
  });

  it('keeps a bounded uniform sample of a busy bucket, weighted by how many events it stands for', () => {
    const now = 10_000;
    let seed = 1;
    // A deterministic random source: a linear congruential generator.
    const random = () => {
      seed = (seed * 48_271) % 2_147_483_647;
      return seed / 2_147_483_647;
    };
    const w = new LatencyWindow({ windowMs: 2_000, bucketMs: 1_000, perBucket: 64, now: () => now, random });
    // 10,000 events in one bucket: 90% at 10 ms, 10% at 1,000 ms, interleaved.
    for (let i = 0; i < 10_000; i++) w.record(i % 10 === 0 ? 1_000 : 10);
    expect(w.count).toBe(10_000);
    expect(w.percentile(0.5)).toBe(10);
    expect(w.percentile(0.99)).toBe(1_000);
  });
});
