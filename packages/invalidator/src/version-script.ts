import { LUA_NOW_US, LuaScript } from '@fabric/sdk';

/**
 * KEYS: version keys of one slot. ARGV: their lifetime in ms. Moves each version to
 * max(current + 1, the server's clock in µs) and (re)sets its lifetime. Returns one reply
 * per key, in KEYS order: 1, or the error of that key alone.
 *
 * Why not INCR: a version key must be able to go away (one is made per changed row, and
 * they would otherwise outnumber the cached values), but a counter that went away starts
 * again at 1, and an entry filled under an old 1 would read as current. A value taken from
 * the clock never comes back after the key expired, was evicted, or was lost in a failover:
 * it is already past every value the key held before. +1 keeps it moving when several
 * bumps land in one microsecond (one clock reading serves the whole call). Existing INCR
 * counters (small numbers) move up to the clock on their next bump, so the change of
 * scheme needs no migration.
 *
 * Every version key of a batch's slot in one call, not a call per key: at a steady 1,000
 * changes/s a batch holds a few events, and a call per key was most of what its pipeline
 * cost. A key's failure (WRONGTYPE, a value that is not an integer: an error of that
 * event's data, as INCR's was) is its reply's, caught by pcall, so it blames only the
 * events that named that key and the other keys are still bumped. The SDK's layout.ts
 * documents the scheme; a fill that finds the key missing creates it from the same clock
 * (LUA_NOW_US, the SDK's ensureVersion).
 */
export const bumpVersions = new LuaScript(`${LUA_NOW_US}
local now = now_us()
local out = {}
for i, key in ipairs(KEYS) do
  local raw = redis.pcall('GET', key)
  if type(raw) == 'table' and raw.err then
    out[i] = raw
  else
    local current = 0
    if raw then current = tonumber(raw) end
    if raw and (not current or current ~= math.floor(current)) then
      out[i] = redis.error_reply('ERR version key ' .. key .. ' holds ' .. raw .. ', not an integer')
    else
      local set = redis.pcall('SET', key, string.format('%.0f', math.max(current + 1, now)), 'PX', ARGV[1])
      if type(set) == 'table' and set.err then out[i] = set else out[i] = 1 end
    end
  end
end
return out
`);
