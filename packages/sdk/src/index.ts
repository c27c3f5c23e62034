export { type CacheStats, FabricCache, type FabricCacheOptions, type GetOptions } from './cache.js';
export { type ExplicitInvalidation, emitInvalidation, explicitPayload } from './emit.js';
export { CacheOptionsError, CacheSerializationError, InvalidationPayloadError } from './errors.js';
export * from './layout.js';
export { isUnknownScript, LuaScript, type RedisClient } from './script.js';
export { jsonSerializer, type Serializer } from './serializer.js';
