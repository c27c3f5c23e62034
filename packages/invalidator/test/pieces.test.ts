import { describe, expect, it } from 'vitest';
import { ApplyError } from '../src/errors.js';
import { FreshnessTracker } from '../src/freshness.js';
import { LatencyWindow } from '../src/latency-window.js';
import { isTransient } from '../src/retry-policy.js';

describe('LatencyWindow', () => {
  it('answers nearest-rank percentiles over the newest samples only', () => {
    const w = new LatencyWindow(100);
    expect(w.percentile(0.5)).toBeNull();
    for (let i = 1; i <= 100; i++) w.record(i);
    expect([w.percentile(0.5), w.percentile(0.99), w.percentile(1)]).toEqual([50, 99, 100]);
    for (let i = 0; i < 100; i++) w.record(1000);
    expect(w.percentile(0.5)).toBe(1000);
    expect(w.count).toBe(100);
  });
});

describe('FreshnessTracker', () => {
  it('reports the partition furthest behind, and forgets partitions that moved away', () => {
    let now = 10_000;
    const f = new FreshnessTracker(() => now);
    expect(f.freshnessSeconds()).toBeNull();
    f.observe(0, 9_000);
    f.observe(1, 7_000);
    f.observe(1, 6_000); // an older redelivery does not move it back
    expect(f.lastAppliedCommitMs()).toBe(7_000);
    expect(f.freshnessSeconds()).toBe(3);
    f.retain([0]);
    expect(f.freshnessSeconds()).toBe(1);
    now = 12_000;
    expect(f.freshnessSeconds()).toBe(3);
  });
});

describe('isTransient', () => {
  const reply = (m: string) => Object.assign(new Error(m), { name: 'ReplyError' });
  it('retries the link and passing server states, not wrong commands', () => {
    expect(isTransient(new Error('connect ECONNREFUSED 127.0.0.1:1'))).toBe(true);
    expect(isTransient(new Error('Command timed out'))).toBe(true);
    expect(isTransient(reply('LOADING Redis is loading'))).toBe(true);
    expect(isTransient(reply('CLUSTERDOWN The cluster is down'))).toBe(true);
    expect(isTransient(new ApplyError('incr', 'e', reply('ERR value is not an integer or out of range')))).toBe(false);
    expect(isTransient(reply('WRONGTYPE Operation against a key holding the wrong kind of value'))).toBe(false);
  });
});

describe('redisErrorHint', () => {
  it('names the flag for errors reconnecting cannot fix, and stays quiet for outages', async () => {
    const { redisErrorHint } = await import('../src/redis-errors.js');
    expect(redisErrorHint(new Error('WRONGPASS invalid username-password pair or user is disabled.'))).toMatch(
      /--redis-password-file/,
    );
    expect(redisErrorHint(new Error('unable to verify the first certificate'))).toMatch(/--redis-tls-ca/);
    expect(redisErrorHint(new Error('connect ECONNREFUSED 127.0.0.1:6379'))).toBeUndefined();
  });
});
