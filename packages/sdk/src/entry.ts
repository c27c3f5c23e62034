/** Why a caller got a value past its TTL rather than a current one. */
export type StaleReason =
  /** The loader threw (the database is down, a query failed): stale-if-error. */
  | 'loader-error'
  /** The loader had not answered after softTimeoutMs; its fill continues in the background. */
  | 'soft-timeout'
  /** The loader had not answered after hardTimeoutMs; its result will not be cached. */
  | 'hard-timeout'
  /** Another caller holds the fill lease and this one allowed stale (staleOk / allowStale). */
  | 'filling';

/**
 * What `getEntry` answers: the value and where it came from. `stale` is the flag a caller
 * needs to decide, e.g., to set `Cache-Control: stale-if-error` or skip a write-back.
 */
export type CacheEntry<T> =
  | { value: T; stale: false; source: 'l1' | 'l2' | 'loader' }
  | { value: T; stale: true; source: 'grace'; reason: StaleReason };
