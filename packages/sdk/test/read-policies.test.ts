import { describe, expect, it } from 'vitest';
import { LoadDurations, shouldRefreshEarly } from '../src/early-refresh.js';
import { CacheOptionsError } from '../src/errors.js';
import { ABSENT_PAYLOAD, decodePayload, encodePayload, isNotFound } from '../src/negative.js';
import { resolveReadPolicy } from '../src/read-policy.js';
import { jsonSerializer } from '../src/serializer.js';
import { awaitLoad } from '../src/timeouts.js';
import { decideTtl } from '../src/ttl-policy.js';
import { manualClock } from './manual-clock.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('decideTtl', () => {
  const policy = { ttlSeconds: 60, ttlJitter: 0 };
  const noJitter = () => 0;

  it('uses ttlSeconds when the value says nothing', () => {
    expect(decideTtl({ a: 1 }, false, policy, undefined, noJitter)).toEqual({
      cache: true,
      ttlMs: 60_000,
      negative: false,
    });
  });

  it("takes the value's own lifetime, clamped to ttlSeconds", () => {
    const expiresIn = (v: { expiresIn: number }) => v.expiresIn;
    expect(decideTtl({ expiresIn: 12.5 }, false, policy, expiresIn, noJitter)).toMatchObject({ ttlMs: 12_500 });
    expect(decideTtl({ expiresIn: 3600 }, false, policy, expiresIn, noJitter)).toMatchObject({ ttlMs: 60_000 });
    expect(decideTtl({ expiresIn: Number.POSITIVE_INFINITY }, false, policy, expiresIn, noJitter)).toMatchObject({
      ttlMs: 60_000,
    });
  });

  it('does not cache a value whose lifetime is over or unknown', () => {
    const expiresIn = (v: { expiresIn: number }) => v.expiresIn;
    expect(decideTtl({ expiresIn: 0 }, false, policy, expiresIn, noJitter)).toEqual({
      cache: false,
      reason: 'ttl-not-positive',
    });
    expect(decideTtl({ expiresIn: -5 }, false, policy, expiresIn, noJitter)).toMatchObject({ cache: false });
    expect(decideTtl({ expiresIn: Number.NaN }, false, policy, expiresIn, noJitter)).toEqual({
      cache: false,
      reason: 'ttl-not-a-number',
    });
  });

  it('jitter only shortens, never past the clamp', () => {
    const jittered = { ttlSeconds: 60, ttlJitter: 0.5 };
    expect(
      decideTtl(
        {},
        false,
        jittered,
        () => 10,
        () => 1,
      ),
    ).toMatchObject({ ttlMs: 5_000 });
    expect(decideTtl({}, false, jittered, undefined, () => 0.5)).toMatchObject({ ttlMs: 45_000 });
  });

  it('gives "not found" the negative TTL, ignoring the value lifetime function', () => {
    const negative = { ...policy, negativeTtlSeconds: 5 };
    const never = () => {
      throw new Error('not asked for a missing value');
    };
    expect(decideTtl(undefined, true, negative, never, noJitter)).toEqual({
      cache: true,
      ttlMs: 5_000,
      negative: true,
    });
    // Without negative caching a null is an ordinary value (the behaviour before the option).
    expect(decideTtl(null, true, policy, undefined, noJitter)).toEqual({ cache: true, ttlMs: 60_000, negative: false });
  });
});

describe('negative caching payloads', () => {
  it('stores undefined as the marker only with negative caching on, and reads it back as undefined', () => {
    expect(encodePayload(undefined, jsonSerializer, true)).toBe(ABSENT_PAYLOAD);
    expect(encodePayload(undefined, jsonSerializer, false)).toBeUndefined();
    expect(encodePayload(null, jsonSerializer, true)).toBe('null');
    expect(decodePayload(ABSENT_PAYLOAD, jsonSerializer)).toBeUndefined();
    expect(decodePayload('null', jsonSerializer)).toBeNull();
    expect(decodePayload('{"a":1}', jsonSerializer)).toEqual({ a: 1 });
  });

  it('no JSON text can be mistaken for the marker', () => {
    expect(JSON.stringify('\u0000fabric:absent')).not.toBe(ABSENT_PAYLOAD);
    expect(isNotFound(undefined) && isNotFound(null) && !isNotFound(0) && !isNotFound('')).toBe(true);
  });
});

describe('shouldRefreshEarly (XFetch)', () => {
  const at = { now: 10_000, expiresAt: 11_000, deltaMs: 100, beta: 1 };

  it('refreshes when now - delta·beta·ln(random) reaches expiry', () => {
    // -ln(random) must reach 10 (1000 ms left / 100 ms delta): random <= e^-10.
    expect(shouldRefreshEarly({ ...at, random: Math.exp(-10) })).toBe(true);
    expect(shouldRefreshEarly({ ...at, random: Math.exp(-9.9) })).toBe(false);
    expect(shouldRefreshEarly({ ...at, random: 1 })).toBe(false);
  });

  it('is more eager for slow loads, high beta and as expiry nears', () => {
    const random = Math.exp(-2);
    expect(shouldRefreshEarly({ ...at, random })).toBe(false);
    expect(shouldRefreshEarly({ ...at, random, deltaMs: 500 })).toBe(true);
    expect(shouldRefreshEarly({ ...at, random, beta: 5 })).toBe(true);
    expect(shouldRefreshEarly({ ...at, random, now: 10_800 })).toBe(true);
  });

  it('never refreshes without a delta or with random 0', () => {
    expect(shouldRefreshEarly({ ...at, deltaMs: 0, random: 1e-300 })).toBe(false);
    expect(shouldRefreshEarly({ ...at, random: 0 })).toBe(false);
  });

  it('the probability over uniform draws matches the exponential tail', () => {
    // P(refresh) = P(-ln U >= left/(delta·beta)) = e^(-left/(delta·beta)) = e^-2 for 200 ms left.
    let hits = 0;
    const n = 10_000;
    for (let i = 1; i <= n; i++) if (shouldRefreshEarly({ ...at, now: 10_800, random: i / n })) hits++;
    expect(hits / n).toBeCloseTo(Math.exp(-2), 2);
  });
});

describe('LoadDurations', () => {
  it('answers per key, then the average of this process, and forgets the oldest key first', () => {
    const d = new LoadDurations(2);
    expect(d.deltaMs('a')).toBeUndefined();
    d.record('a', 100);
    d.record('b', 200);
    d.record('c', 300);
    expect(d.deltaMs('b')).toBe(200);
    expect(d.deltaMs('c')).toBe(300);
    const fallback = d.deltaMs('a');
    expect(fallback).toBeGreaterThan(100);
    expect(fallback).toBeLessThan(300);
  });
});

describe('awaitLoad', () => {
  it('returns the load when it finishes first, with its duration', async () => {
    const clock = manualClock();
    const load = deferred<string>();
    const outcome = awaitLoad(load.promise, { softMs: 100, hardMs: 1000 }, async () => 'graced', clock);
    await clock.advance(40);
    load.resolve('fresh');
    expect(await outcome).toEqual({ kind: 'loaded', value: 'fresh', durationMs: 40 });
  });

  it('answers with the graced value at the soft timeout, and asks for it only then', async () => {
    const clock = manualClock();
    const load = deferred<string>();
    let asked = 0;
    const outcome = awaitLoad(
      load.promise,
      { softMs: 100, hardMs: 1000 },
      async () => {
        asked++;
        return 'graced';
      },
      clock,
    );
    await clock.advance(99);
    expect(asked).toBe(0);
    await clock.advance(1);
    expect(await outcome).toEqual({ kind: 'soft-timeout', graced: 'graced' });
    expect(asked).toBe(1);
  });

  it('keeps waiting past the soft timeout when there is nothing graced, up to the hard timeout', async () => {
    const clock = manualClock();
    const load = deferred<string>();
    let settled: unknown;
    const outcome = awaitLoad(load.promise, { softMs: 100, hardMs: 1000 }, async () => undefined, clock).then(
      (o) => (settled = o),
    );
    await clock.advance(999);
    expect(settled).toBeUndefined();
    await clock.advance(1);
    await outcome;
    expect(settled).toEqual({ kind: 'hard-timeout', afterMs: 1000 });
  });

  it('a graced lookup that fails does not end the wait', async () => {
    const clock = manualClock();
    const load = deferred<string>();
    const outcome = awaitLoad(
      load.promise,
      { softMs: 100 },
      async () => {
        throw new Error('redis down');
      },
      clock,
    );
    await clock.advance(500);
    load.resolve('late');
    expect(await outcome).toMatchObject({ kind: 'loaded', value: 'late' });
  });

  it('reports a failing loader as failed, and waits forever without timeouts', async () => {
    const clock = manualClock();
    const load = deferred<string>();
    const outcome = awaitLoad(load.promise, {}, async () => 'graced', clock);
    await clock.advance(1_000_000);
    const boom = new Error('db down');
    load.reject(boom);
    expect(await outcome).toEqual({ kind: 'failed', error: boom });
  });
});

describe('resolveReadPolicy', () => {
  const base = { ttlSeconds: 60 };

  it('is all off by default', () => {
    expect(resolveReadPolicy(base)).toMatchObject({
      graceMs: 0,
      softTimeoutMs: undefined,
      hardTimeoutMs: undefined,
      earlyRefreshBeta: undefined,
      negativeTtlSeconds: undefined,
    });
    expect(resolveReadPolicy({ ...base, earlyRefresh: true }).earlyRefreshBeta).toBe(1);
    expect(resolveReadPolicy({ ...base, earlyRefresh: { beta: 2 } }).earlyRefreshBeta).toBe(2);
  });

  it('refuses options that cannot work, naming the option and the fix', () => {
    const refuse = (opts: Parameters<typeof resolveReadPolicy>[0], message: RegExp) => {
      expect(() => resolveReadPolicy(opts)).toThrow(CacheOptionsError);
      expect(() => resolveReadPolicy(opts)).toThrow(message);
    };
    refuse({ ...base, graceSeconds: -1 }, /graceSeconds must be a positive number of seconds, got -1/);
    refuse({ ...base, hardTimeoutMs: Number.NaN }, /hardTimeoutMs must be a positive/);
    refuse(
      { ...base, softTimeoutMs: 100 },
      /softTimeoutMs .* needs graceSeconds; set graceSeconds, or use hardTimeoutMs/,
    );
    refuse(
      { ...base, graceSeconds: 10, softTimeoutMs: 500, hardTimeoutMs: 500 },
      /softTimeoutMs \(500\) must be below hardTimeoutMs \(500\)/,
    );
    refuse({ ...base, negativeTtlSeconds: 120 }, /negativeTtlSeconds \(120\) must not exceed ttlSeconds \(60\)/);
    refuse({ ...base, graceSeconds: 10, maxStaleSeconds: 100 }, /drop maxStaleSeconds/);
    refuse({ ...base, earlyRefresh: { beta: 0 } }, /earlyRefresh.beta must be a positive/);
  });
});
