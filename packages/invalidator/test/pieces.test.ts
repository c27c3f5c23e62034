import { describe, expect, it } from 'vitest';
import { ApplyError } from '../src/errors.js';
import { FreshnessTracker } from '../src/freshness.js';
import { failureKind } from '../src/retry-policy.js';

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

describe('failureKind', () => {
  const reply = (m: string) => Object.assign(new Error(m), { name: 'ReplyError' });
  it('blames the link and server states on an outage, a moving slot on the keys, wrong commands on the event', () => {
    expect(failureKind(new Error('connect ECONNREFUSED 127.0.0.1:1'))).toBe('outage');
    expect(failureKind(new Error('Command timed out'))).toBe('outage');
    expect(failureKind('not even an Error')).toBe('outage');
    for (const m of ['LOADING Redis is loading', 'CLUSTERDOWN The cluster is down', 'NOAUTH Authentication required.'])
      expect(failureKind(reply(m))).toBe('outage');
    for (const m of ['NOPERM no permissions', 'MISCONF cannot persist', 'READONLY replica', 'OOM over maxmemory'])
      expect(failureKind(new ApplyError('unlink', 'e', reply(m)))).toBe('outage');
    expect(failureKind(reply('TRYAGAIN Multiple keys request during rehashing of slot'))).toBe('slot-moving');
    expect(failureKind(new ApplyError('incr', 'e', reply('ERR value is not an integer or out of range')))).toBe(
      'event',
    );
    expect(failureKind(reply('WRONGTYPE Operation against a key holding the wrong kind of value'))).toBe('event');
    expect(failureKind(reply("CROSSSLOT Keys in request don't hash to the same slot"))).toBe('event');
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
