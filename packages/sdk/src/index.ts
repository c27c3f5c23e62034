export { FabricCache, type FabricCacheOptions, type GetOptions, type CacheStats } from './cache.js';
export { emitInvalidation, type ExplicitInvalidation } from './emit.js';
export { CacheOptionsError, CacheSerializationError, InvalidationPayloadError } from './errors.js';
export * from './layout.js';
export { isUnknownScript, LuaScript, type RedisClient } from './script.js';
export { jsonSerializer, type Serializer } from './serializer.js';
