import { VALUE_FIELD, VERSION_FIELD } from './layout.js';
import { LuaScript } from './script.js';

/**
 * KEYS: lease, stale. ARGV: token, leaseMs.
 * Takes the lease if free; otherwise returns the stale copy in the same round trip so a
 * caller that allows stale needs nothing more.
 */
export const acquireLease = new LuaScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1} end
return {0, redis.call('GET', KEYS[2])}
`);

/**
 * KEYS: value, lease, stale. ARGV: token, payload, version ('' = none), ttlMs, staleTtlMs.
 * Writes only while our lease is still there: the invalidator deletes leases of the keys it
 * invalidates, so a fill that loaded before an invalidation finds its lease gone and is
 * refused. Returns 1 when written, 0 when refused.
 */
export const fillIfLeased = new LuaScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
redis.call('DEL', KEYS[1])
if ARGV[3] == '' then
  redis.call('HSET', KEYS[1], '${VALUE_FIELD}', ARGV[2])
else
  redis.call('HSET', KEYS[1], '${VALUE_FIELD}', ARGV[2], '${VERSION_FIELD}', ARGV[3])
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if tonumber(ARGV[5]) > 0 then redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[5]) end
return 1
`);

/** KEYS: lease. ARGV: token. Gives the lease back after a failed load, only if still ours. */
export const releaseLease = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/**
 * KEYS: tag set. ARGV: cache key, minimum TTL ms. Registers the key and keeps the set alive
 * at least as long as the members it lists (sets would otherwise only grow).
 */
export const registerTag = new LuaScript(`
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
`);
