import { LEASE_PREFIX, LEASE_TOMBSTONE, LUA_COMPANION, LuaScript, STALE_PREFIX } from '@fabric/sdk';

/**
 * KEYS: tag set. ARGV: SSCAN cursor, page size (COUNT), lease tombstone ms (0 = delete the
 * lease; see lease-revoke.ts). Standalone only: a cluster keeps the members in other slots,
 * which a script may not touch (see ClusterTopology).
 * Returns {next cursor, values unlinked, leases revoked, members seen, stale copies dropped}.
 *
 * One page per call, so a tag of any size costs Redis one bounded step at a time, never one
 * script over the whole set. Each member is deleted (lease, value, stale copy) before it is
 * removed from the set, in the same atomic step: a reply lost after the page leaves nothing
 * half done, and the retry finds the members that are left. The set is never deleted as a
 * whole: it disappears when its last member is removed, and a fill that registers a member
 * while the pages go by stays in it for the next invalidation instead of being dropped.
 */
export const expandTagPage = new LuaScript(`${LUA_COMPANION}
local page = redis.call('SSCAN', KEYS[1], ARGV[1], 'COUNT', ARGV[2])
local out = {page[1], 0, 0, #page[2], 0}
local tombstone = tonumber(ARGV[3] or '0')
for _, m in ipairs(page[2]) do
  local lease = companion('${LEASE_PREFIX}', m)
  if tombstone > 0 then
    local old = redis.call('GET', lease)
    if old and old ~= '${LEASE_TOMBSTONE}' then out[3] = out[3] + 1 end
    redis.call('SET', lease, '${LEASE_TOMBSTONE}', 'PX', tombstone)
  else
    out[3] = out[3] + redis.call('UNLINK', lease)
  end
  out[2] = out[2] + redis.call('UNLINK', m)
  out[5] = out[5] + redis.call('UNLINK', companion('${STALE_PREFIX}', m))
  redis.call('SREM', KEYS[1], m)
end
return out
`);
