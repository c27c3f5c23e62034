export { type BusLogger, type BusStats, InvalidationBus, type InvalidationBusOptions } from './bus.js';
export { type CacheStats, FabricCache, type FabricCacheOptions, type GetOptions } from './cache.js';
export type { Clock, TimerHandle } from './clock.js';
export {
  type CommitToken,
  CommitTokenError,
  commitToken,
  parseCommitToken,
  type Queryable,
} from './consistency/commit-token.js';
export { RegionWatermark } from './consistency/watermark.js';
export { type ExplicitInvalidation, emitInvalidation, explicitPayload } from './emit.js';
export type { CacheEntry, StaleReason } from './entry.js';
export {
  CacheLoaderTimeoutError,
  CacheOptionsError,
  CacheSerializationError,
  InvalidationPayloadError,
} from './errors.js';
export { L1Cache, type L1Options, type L1Stats, type L1Ticket } from './l1.js';
export * from './layout.js';
export { ABSENT_PAYLOAD } from './negative.js';
export type { ResilienceOptions } from './read-policy.js';
export { isUnknownScript, LuaScript, type RedisClient } from './script.js';
export { jsonSerializer, type Serializer } from './serializer.js';
