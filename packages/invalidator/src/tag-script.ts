import { LEASE_PREFIX, LUA_COMPANION, LuaScript } from '@fabric/sdk';

/**
 * KEYS: tag set. ARGV: '1' to unlink the members and their leases here, '0' to return them.
 * Returns {values unlinked, leases unlinked, members...} (members only for '0').
 *
 * Reading and deleting the set is one atomic step, so a fill that registers into the tag
 * concurrently lands either before (and is deleted now) or after (and stays in the new set
 * for the next invalidation); it is never dropped in between. On a standalone Redis the
 * members are deleted in the same step ('1'). In a cluster they live in other slots, which
 * a script may not touch, so the caller deletes them slot by slot ('0').
 */
export const expandTag = new LuaScript(`${LUA_COMPANION}
local members = redis.call('SMEMBERS', KEYS[1])
redis.call('UNLINK', KEYS[1])
local out = {0, 0}
for _, m in ipairs(members) do
  if ARGV[1] == '1' then
    out[1] = out[1] + redis.call('UNLINK', m)
    out[2] = out[2] + redis.call('UNLINK', companion('${LEASE_PREFIX}', m))
  else
    out[#out + 1] = m
  end
end
return out
`);
