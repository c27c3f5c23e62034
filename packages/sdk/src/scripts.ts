import { LEASE_TOMBSTONE, LUA_NOW_US, VALUE_FIELD, VERSION_FIELD } from './layout.js';
import { LuaScript } from './script.js';

/**
 * Whether a HASH { d, v } read by HMGET is current: present and, when the call names a
 * version (ARGV[3] = '1'), filled under the version key's current value. The current value
 * is KEYS[4] read here (standalone: atomic with the rest), or ARGV[4] read by the caller
 * just before (cluster: the version key lives in another slot); '' means the key is missing,
 * and an entry whose version key is missing is never current.
 */
const CURRENT = `
local function current(h)
  if not h[1] then return false end
  if ARGV[3] ~= '1' then return true end
  local cur = ARGV[4]
  if KEYS[4] then cur = redis.call('GET', KEYS[4]) end
  return cur and cur ~= '' and h[2] == cur
end
`;

/**
 * KEYS: value, lease, stale, [version key]. ARGV: token, leaseMs, versioned '1'/'0',
 * current version when KEYS[4] is absent ('' = missing).
 * Returns {2, payload}: the value is there and current (another filler landed since our
 * read), {1}: the lease is ours, {3, pttl}: an invalidation's tombstone holds the lease,
 * {0, stale payload or nil}: another fill is in flight.
 *
 * Re-checking the value and taking the lease in one step is the stampede protection across
 * processes: between a separate read and SET NX the other filler may write and drop its
 * lease, and the lease would then be free to load the same value again.
 */
export const acquireLease = new LuaScript(`${CURRENT}
local h = redis.call('HMGET', KEYS[1], '${VALUE_FIELD}', '${VERSION_FIELD}')
if current(h) then return {2, h[1]} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1} end
if redis.call('GET', KEYS[2]) == '${LEASE_TOMBSTONE}' then return {3, redis.call('PTTL', KEYS[2])} end
local s = redis.call('HMGET', KEYS[3], '${VALUE_FIELD}', '${VERSION_FIELD}')
if current(s) then return {0, s[1]} end
return {0}
`);

/**
 * KEYS: value, lease, stale. ARGV: token, payload, version ('' = none), ttlMs, staleTtlMs.
 * Writes only while our lease is still there: the invalidator deletes (or tombstones) leases
 * of the keys it invalidates, so a fill that loaded before an invalidation finds its lease
 * gone and is refused. The stale copy carries the same version, so it can be checked the
 * same way. Returns 1 when written, 0 when refused.
 */
export const fillIfLeased = new LuaScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
redis.call('DEL', KEYS[1])
local fields = {'${VALUE_FIELD}', ARGV[2]}
if ARGV[3] ~= '' then fields = {'${VALUE_FIELD}', ARGV[2], '${VERSION_FIELD}', ARGV[3]} end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if tonumber(ARGV[5]) > 0 then
  redis.call('DEL', KEYS[3])
  redis.call('HSET', KEYS[3], unpack(fields))
  redis.call('PEXPIRE', KEYS[3], ARGV[5])
end
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

/**
 * KEYS: version key. ARGV: its lifetime in ms. Returns the key's value, creating it first
 * (from the clock, as the invalidator's bump would) when it is missing, so a fill never
 * snapshots "no version": that snapshot would match again whenever the key went away.
 */
export const ensureVersion = new LuaScript(`${LUA_NOW_US}
local v = redis.call('GET', KEYS[1])
if v then return v end
v = string.format('%.0f', now_us())
redis.call('SET', KEYS[1], v, 'NX', 'PX', ARGV[1])
return v
`);

/**
 * KEYS: fills registry. ARGV: cache key, leaseMs. Registers a fill in flight with its lease's
 * expiry (Redis clock, ms to the µs) as score, drops entries already past theirs (fillers that died),
 * and returns the score, which unregisterFill needs.
 */
export const registerFill = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
-- Microseconds, so two fills of one key never share a score (in ms they could, and the
-- first to finish would then remove the other's entry); below 2^53, so exact as a double.
local score = string.format('%.3f', now + tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], score, ARGV[1])
return score
`);

/**
 * KEYS: fills registry. ARGV: cache key, the score registerFill returned. Removes the entry
 * only if it is still ours: a later fill of the same key (after ours was revoked) re-scored
 * it, and removing that one would leave its load unprotected.
 */
export const unregisterFill = new LuaScript(`
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) == tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`);
