import { type Clock, systemClock } from './clock.js';
import { CacheOptionsError } from './errors.js';
import type { TtlFromValue } from './ttl-policy.js';

/** The read path's resilience options, part of FabricCacheOptions. All off by default. */
export interface ResilienceOptions {
  /**
   * Stale-if-error: keep each value's last good copy this long past its TTL and answer with
   * it (flagged stale) when the loader fails or times out. The copy is dropped by every
   * invalidation of the key, so grace never serves a value known to be wrong.
   */
  graceSeconds?: number;
  /** After this long, answer with the graced value (if any) while the fill continues. Needs graceSeconds. */
  softTimeoutMs?: number;
  /** After this long, stop waiting: the graced value if any, else CacheLoaderTimeoutError. */
  hardTimeoutMs?: number;
  /** Probabilistic early refresh of hits near expiry (XFetch); true = beta 1. */
  earlyRefresh?: boolean | { beta?: number };
  /** Cache a loader's undefined/null ("not found") this long instead of ttlSeconds. */
  negativeTtlSeconds?: number;
  /** Each value's own lifetime in seconds, clamped to ttlSeconds; <= 0 or NaN: not cached. */
  ttl?: TtlFromValue<unknown>;
  /** For tests: time and timers, and the random source of jitter and early refresh. */
  clock?: Clock;
  random?: () => number;
}

/** Validated once in the constructor; nothing downstream checks these again. */
export interface ReadPolicy {
  graceMs: number;
  softTimeoutMs: number | undefined;
  hardTimeoutMs: number | undefined;
  /** XFetch beta, undefined when early refresh is off. */
  earlyRefreshBeta: number | undefined;
  negativeTtlSeconds: number | undefined;
  ttl: TtlFromValue<unknown> | undefined;
  clock: Clock;
  /** Uniform in (0, 1]. */
  random: () => number;
}

const positive = (name: string, value: number | undefined, unit: string): void => {
  if (value !== undefined && !(value > 0 && Number.isFinite(value)))
    throw new CacheOptionsError(`${name} must be a positive number of ${unit}, got ${value}`);
};

export function resolveReadPolicy(
  opts: ResilienceOptions & { ttlSeconds: number; maxStaleSeconds?: number | undefined },
): ReadPolicy {
  positive('graceSeconds', opts.graceSeconds, 'seconds');
  positive('softTimeoutMs', opts.softTimeoutMs, 'milliseconds');
  positive('hardTimeoutMs', opts.hardTimeoutMs, 'milliseconds');
  positive('negativeTtlSeconds', opts.negativeTtlSeconds, 'seconds');
  if (opts.graceSeconds !== undefined && opts.maxStaleSeconds !== undefined)
    throw new CacheOptionsError(
      'graceSeconds and maxStaleSeconds both set the stale copy lifetime (with graceSeconds: the TTL + grace); drop maxStaleSeconds',
    );
  if (opts.softTimeoutMs !== undefined && opts.graceSeconds === undefined)
    throw new CacheOptionsError(
      'softTimeoutMs answers with the graced value, so it needs graceSeconds; set graceSeconds, or use hardTimeoutMs alone',
    );
  if (
    opts.softTimeoutMs !== undefined &&
    opts.hardTimeoutMs !== undefined &&
    !(opts.softTimeoutMs < opts.hardTimeoutMs)
  )
    throw new CacheOptionsError(
      `softTimeoutMs (${opts.softTimeoutMs}) must be below hardTimeoutMs (${opts.hardTimeoutMs}), or the soft timeout never fires`,
    );
  if (opts.negativeTtlSeconds !== undefined && opts.negativeTtlSeconds > opts.ttlSeconds)
    throw new CacheOptionsError(
      `negativeTtlSeconds (${opts.negativeTtlSeconds}) must not exceed ttlSeconds (${opts.ttlSeconds}): "not found" should be the shorter-lived answer`,
    );
  if (opts.ttl !== undefined && typeof opts.ttl !== 'function')
    throw new CacheOptionsError(`ttl must be a function (value) => seconds, got ${typeof opts.ttl}`);
  const early = opts.earlyRefresh;
  const beta = early === true ? 1 : early === false || early === undefined ? undefined : (early.beta ?? 1);
  positive('earlyRefresh.beta', beta, 'units (1 is the usual choice)');
  const random = opts.random ?? (() => 1 - Math.random());
  return {
    graceMs: Math.round((opts.graceSeconds ?? 0) * 1000),
    softTimeoutMs: opts.softTimeoutMs,
    hardTimeoutMs: opts.hardTimeoutMs,
    earlyRefreshBeta: beta,
    negativeTtlSeconds: opts.negativeTtlSeconds,
    ttl: opts.ttl,
    clock: opts.clock ?? systemClock,
    random,
  };
}
