/** Options that cannot work (negative TTL, jitter outside 0..1); thrown by constructors. */
export class CacheOptionsError extends Error {
  override readonly name = 'CacheOptionsError';
}

/** The serializer could not turn a loaded value into a string (e.g. JSON of `undefined`). */
export class CacheSerializationError extends Error {
  override readonly name = 'CacheSerializationError';
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`${key}: ${message}`);
  }
}

/** An explicit invalidation the CDC reader would reject (it would go to the DLQ). */
export class InvalidationPayloadError extends Error {
  override readonly name = 'InvalidationPayloadError';
}

/**
 * The loader did not answer within hardTimeoutMs and there was no graced value to serve.
 * Its fill lease was given back and its eventual result is not cached. Retriable.
 */
export class CacheLoaderTimeoutError extends Error {
  override readonly name = 'CacheLoaderTimeoutError';
  readonly retriable = true;
  constructor(
    readonly key: string,
    readonly timeoutMs: number,
  ) {
    super(
      `${key}: the loader did not answer within hardTimeoutMs (${timeoutMs} ms); raise hardTimeoutMs or set graceSeconds to serve the last value`,
    );
  }
}
