import { LEASE_TOMBSTONE, LuaScript } from '@fabric/sdk';

/**
 * KEYS: leases of one slot. ARGV: tombstone lifetime in ms. Overwrites each lease with the
 * SDK's LEASE_TOMBSTONE instead of deleting it: the fill in flight is refused exactly as if
 * the lease were gone (its token no longer matches), and no new lease can be taken until the
 * tombstone expires. That covers a commit decoded before it is visible to readers (a
 * synchronous standby not yet acknowledged): a fill starting then would read the old row.
 * Returns how many leases held a fill's token (what "revoked" counts).
 */
export const tombstoneLeases = new LuaScript(`
local revoked = 0
for _, k in ipairs(KEYS) do
  local old = redis.call('GET', k)
  if old and old ~= '${LEASE_TOMBSTONE}' then revoked = revoked + 1 end
  redis.call('SET', k, '${LEASE_TOMBSTONE}', 'PX', ARGV[1])
end
return revoked
`);

/**
 * The command that revokes `leases` (all of one slot): UNLINK, or the tombstone script when
 * tombstoneMs > 0. Either replies with the number of fills revoked.
 */
export function revokeLeasesCommand(
  leases: readonly string[],
  tombstoneMs: number,
): ['unlink' | 'evalsha', ...string[]] {
  if (tombstoneMs <= 0) return ['unlink', ...leases];
  return tombstoneLeases.command(leases, [String(tombstoneMs)]);
}
