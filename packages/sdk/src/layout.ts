/**
 * The Redis key layout shared by the SDK (which fills) and the invalidator (which deletes).
 * It is decided here once; the invalidator imports it from `@fabric/sdk`.
 *
 *   <key>            the cached value: a HASH { d: serialized value, v: version snapshot }
 *   lease:{<key>}    fill lease: a random token, PX leaseMs; deleting it refuses the fill
 *   stale:{<key>}    last good serialized value, only with `staleOk`; survives invalidation
 *                    on purpose so waiters may serve it while one filler reloads
 *   tag:{<tag>}      SET of cache keys registered by fills that named the tag; the
 *                    invalidator removes each member after deleting it, page by page, and
 *                    the set goes away with its last member
 *   ver:...          version keys, used verbatim as events and callers name them (the key
 *                    rules' ver:<table>:<id>); see "Version keys" below
 *
 * Companion keys (lease, stale) must live in the same Redis Cluster slot as their key so
 * one Lua script can check the lease and write the value. Redis hashes only the first
 * non-empty `{...}` of a key, so a key that already has such a hash tag keeps it
 * (`lease:` + key) and any other key is wrapped whole (`lease:{` + key + `}`). A key with a
 * `}` but no valid hash tag cannot be co-located; in a cluster its scripts fail CROSSSLOT.
 * The tag set's braces keep a tag's set in one slot whatever characters the tag has.
 *
 * Version keys. A fill snapshots the version key before loading (missing reads as '0') and
 * stores the snapshot in the value's `v`; a read whose snapshot differs from the key's
 * current value is a miss. The invalidator bumps a version key to
 * max(current + 1, the server's clock in µs) and gives it a lifetime, `--version-ttl-seconds`
 * (DEFAULT_VERSION_TTL_SECONDS, 7 days), from that bump (invalidator/src/version-script.ts).
 * A value taken from the clock never repeats: after the key expired (or was evicted, or
 * lost in a failover) the next bump is past every value it held, so no old snapshot can
 * match again, which a plain INCR restarting at 1 could not promise. One case is left to
 * the lifetime: an entry filled while the key was missing holds '0', and '0' matches again
 * once the key has expired. Such an entry was filled before the bump, so it is gone by then
 * provided no entry lives longer than the version lifetime: the SDK refuses a ttlSeconds at
 * or above its versionTtlSeconds, which must not exceed the invalidator's. Nothing reads
 * or writes versions in Lua apart from the invalidator's bump script.
 */
export const DEFAULT_VERSION_TTL_SECONDS = 7 * 24 * 3600;

export const LEASE_PREFIX = 'lease:';
export const STALE_PREFIX = 'stale:';
export const TAG_PREFIX = 'tag:';

/** Field names inside the value hash. */
export const VALUE_FIELD = 'd';
export const VERSION_FIELD = 'v';

/** The hash tag Redis Cluster would use for `key`, or undefined when it hashes the whole key. */
export function hashTagOf(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open < 0) return undefined;
  const close = key.indexOf('}', open + 1);
  if (close <= open + 1) return undefined;
  return key.slice(open + 1, close);
}

function companion(prefix: string, key: string): string {
  return hashTagOf(key) === undefined ? `${prefix}{${key}}` : prefix + key;
}

export const leaseKey = (key: string): string => companion(LEASE_PREFIX, key);
export const staleKey = (key: string): string => companion(STALE_PREFIX, key);
export const tagKey = (tag: string): string => `${TAG_PREFIX}{${tag}}`;

/**
 * The same companion rule in Lua, for scripts that derive lease keys from members of a tag
 * set. Kept next to the TypeScript version so both change together.
 */
export const LUA_COMPANION = `
local function companion(prefix, k)
  local s = string.find(k, '{', 1, true)
  if s then
    local e = string.find(k, '}', s + 1, true)
    if e and e > s + 1 then return prefix .. k end
  end
  return prefix .. '{' .. k .. '}'
end
`;
