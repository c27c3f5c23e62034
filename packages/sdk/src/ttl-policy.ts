/**
 * How long one loaded value may be cached. ttlSeconds is an upper bound that nothing here
 * exceeds: a value's own lifetime (`ttl: (value) => seconds`, e.g. a token's
 * `expires_at - now`) can only shorten it, and jitter only shortens further, so keys filled
 * together do not expire together.
 *
 * A non-positive lifetime (or NaN) means "do not cache": the value is already expired
 * (or its expiry is unknown), and caching it for any positive time would serve it past the
 * moment its own data says it stops being true. The caller still gets the value.
 */
export type TtlFromValue<T> = (value: T) => number;

export type TtlDecision =
  | { cache: true; ttlMs: number; negative: boolean }
  | { cache: false; reason: 'ttl-not-positive' | 'ttl-not-a-number' };

export interface TtlPolicy {
  ttlSeconds: number;
  ttlJitter: number;
  /** Set when negative caching is on: "not found" results live this long instead. */
  negativeTtlSeconds?: number | undefined;
}

export function decideTtl<T>(
  value: T,
  notFound: boolean,
  policy: TtlPolicy,
  fromValue: TtlFromValue<T> | undefined,
  random: () => number,
): TtlDecision {
  let seconds = policy.ttlSeconds;
  if (notFound && policy.negativeTtlSeconds !== undefined) {
    seconds = Math.min(policy.negativeTtlSeconds, policy.ttlSeconds);
  } else if (fromValue !== undefined) {
    const own = fromValue(value);
    if (Number.isNaN(own)) return { cache: false, reason: 'ttl-not-a-number' };
    if (!(own > 0)) return { cache: false, reason: 'ttl-not-positive' };
    seconds = Math.min(own, policy.ttlSeconds);
  }
  const ttlMs = Math.max(1, Math.round(seconds * 1000 * (1 - policy.ttlJitter * random())));
  return { cache: true, ttlMs, negative: notFound && policy.negativeTtlSeconds !== undefined };
}
