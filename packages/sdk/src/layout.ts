/**
 * The Redis key layout shared by the SDK (which fills) and the invalidator (which deletes).
 * It is decided here once; the invalidator imports it from `@fabric/sdk`.
 *
 *   <key>            the cached value: a HASH { d: serialized value, v: version snapshot }
 *   lease:{<key>}    fill lease: a random token, PX leaseMs; deleting it refuses the fill
 *   stale:{<key>}    last good serialized value, only with `staleOk`; survives invalidation
 *                    on purpose so waiters may serve it while one filler reloads
 *   tag:{<tag>}      SET of cache keys registered by fills that named the tag
 *   ver:...          version counters, used verbatim as events and callers name them
 *
 * Companion keys (lease, stale) must live in the same Redis Cluster slot as their key so
 * one Lua script can check the lease and write the value. Redis hashes only the first
 * non-empty `{...}` of a key, so a key that already has such a hash tag keeps it
 * (`lease:` + key) and any other key is wrapped whole (`lease:{` + key + `}`). A key with a
 * `}` but no valid hash tag cannot be co-located; in a cluster its scripts fail CROSSSLOT.
 * The tag set's braces keep a tag's set in one slot whatever characters the tag has.
 */
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
