import { LUA_NOW_US, LuaScript } from '@fabric/sdk';

/**
 * KEYS: version key. ARGV: its lifetime in ms. Moves the version to
 * max(current + 1, the server's clock in µs) and (re)sets its lifetime. Returns 1.
 *
 * Why not INCR: a version key must be able to go away (one is made per changed row, and
 * they would otherwise outnumber the cached values), but a counter that went away starts
 * again at 1, and an entry filled under an old 1 would read as current. A value taken from
 * the clock never comes back after the key expired, was evicted, or was lost in a failover:
 * it is already past every value the key held before. +1 keeps it moving when several
 * bumps land in one microsecond. Existing INCR counters (small numbers) move up to the
 * clock on their next bump, so the change of scheme needs no migration.
 *
 * A value that is not an integer is an error of this event's data (a dead letter), as
 * INCR's was. The SDK's layout.ts documents the scheme; a fill that finds the key missing
 * creates it from the same clock (LUA_NOW_US, the SDK's ensureVersion).
 */
export const bumpVersion = new LuaScript(`${LUA_NOW_US}
local raw = redis.call('GET', KEYS[1])
local current = 0
if raw then
  current = tonumber(raw)
  if not current or current ~= math.floor(current) then
    return redis.error_reply('ERR version key ' .. KEYS[1] .. ' holds ' .. raw .. ', not an integer')
  end
end
redis.call('SET', KEYS[1], string.format('%.0f', math.max(current + 1, now_us())), 'PX', ARGV[1])
return 1
`);
