/**
 * The Redis key layout shared by the SDK (which fills) and the invalidator (which deletes).
 * It is decided here once; the invalidator imports it from `@fabric/sdk`.
 *
 *   <key>            the cached value: a HASH { d: serialized value, v: version snapshot }
 *   lease:{<key>}    fill lease: a random token, PX leaseMs; deleting it refuses the fill.
 *                    The invalidator may instead overwrite it with LEASE_TOMBSTONE for a
 *                    short while: the fill in flight is refused the same way, and no new
 *                    lease can be taken until the tombstone expires (see below)
 *   stale:{<key>}    last good value, only with `staleOk`: a HASH { d, v } like the value,
 *                    living maxStaleSeconds from its fill. Served only while another caller
 *                    refills and only if its version is current; the invalidator deletes it
 *                    with its key, so it never serves a value from before an invalidation
 *   tag:{<tag>}      SET of cache keys registered by fills that named the tag; the
 *                    invalidator removes each member after deleting it, page by page, and
 *                    the set goes away with its last member
 *   fabric:filling   the fills in flight: a ZSET of cache keys, score = the fill's lease
 *                    expiry (Redis clock, ms); see "Fills in flight" below
 *   ver:...          version keys, used verbatim as events and callers name them (the key
 *                    rules' ver:<table>:<id>); see "Version keys" below
 *
 * Companion keys (lease, stale) must live in the same Redis Cluster slot as their key so
 * one Lua script can check the lease and write the value. Redis hashes only the first
 * non-empty `{...}` of a key, so a key that already has such a hash tag keeps it
 * (`lease:` + key) and any other key is wrapped whole (`lease:{` + key + `}`). A key with a
 * `}` but no valid hash tag cannot be co-located; in a cluster its scripts fail CROSSSLOT.
 * The tag set's braces keep a tag's set in one slot whatever characters the tag has.
 * Whatever deletes a key deletes its companions too (COMPANION_PREFIXES).
 *
 * Taking a lease re-checks the value in the same script (and its version, see below): a
 * caller that missed while another process filled must not load again once that fill has
 * landed and dropped its lease, which a separate read before SET NX could not promise.
 *
 * Fills in flight. A pattern (or TRUNCATE) invalidation finds its keys by SCAN, which sees
 * values, not fills still loading: their leases would survive and the stale fill win. So a
 * fill registers its key in fabric:filling after taking the lease and BEFORE loading, and
 * removes it afterwards; the invalidator, for each pattern, first reads the registry
 * (ZSCAN MATCH, the same glob as SCAN MATCH, by Redis itself) and revokes what matches,
 * and only then SCANs the keyspace. A fill registered before that read is revoked (or, if
 * it already wrote, its value is deleted); a fill registered after it loads after the
 * invalidation began, so after the commit, and reads the new row; a fill that finished
 * before the read wrote a value the SCAN that follows finds. Entries whose lease expired
 * are trimmed by the next registration, so a crashed filler leaves nothing for long.
 *
 * Lease tombstones. With a synchronous standby the primary's WAL can be decoded (and the
 * invalidation applied) before the commit is visible to readers; a fill that starts in
 * that window reads the old row. The invalidator's --fill-tombstone-ms sets the lease to
 * LEASE_TOMBSTONE for that long instead of deleting it: fills are refused and new leases
 * wait until the commit is surely visible. A caller meeting a tombstone waits (bounded by
 * waitMs) as for any lease.
 *
 * Version keys. A fill snapshots the version key before loading and stores the snapshot in
 * the value's `v`; a read whose snapshot differs from the key's current value is a miss,
 * and so is a read whose version key is missing: the entry's version is unknown once the
 * key went away (expired, evicted, lost in a failover). A fill never snapshots "missing":
 * it creates the key (SET NX) from the clock, in the ensureVersion script. The invalidator
 * bumps a version key to max(current + 1, the server's clock in µs) and gives it a
 * lifetime, `--version-ttl-seconds` (DEFAULT_VERSION_TTL_SECONDS, 7 days), from that bump
 * (invalidator/src/version-script.ts); the SDK creates missing keys with the same clock
 * (LUA_NOW_US, shared by both scripts: the Lua twin) and its versionTtlSeconds, which must
 * equal the invalidator's. A value taken from the clock never repeats: after the key went
 * away its next value is past every value it held, so no old snapshot can match again,
 * which a plain INCR restarting at 1 (or a missing key read as '0') could not promise.
 */
export const DEFAULT_VERSION_TTL_SECONDS = 7 * 24 * 3600;

export const LEASE_PREFIX = 'lease:';
export const STALE_PREFIX = 'stale:';
export const TAG_PREFIX = 'tag:';
/** Companions deleted with their key by every invalidation path. */
export const COMPANION_PREFIXES = [LEASE_PREFIX, STALE_PREFIX] as const;

/** The registry of fills in flight (one per region's Redis; its own slot in a cluster). */
export const FILLING_KEY = 'fabric:filling';

/**
 * What the invalidator writes over a lease it revokes with --fill-tombstone-ms. Lease tokens
 * are random UUIDs, so no fill's token equals it.
 */
export const LEASE_TOMBSTONE = 'fabric:tombstone';

/**
 * The invalidator's default --fill-tombstone-ms. A synchronous standby acknowledges within a
 * few ms when healthy, and the invalidation already trails the commit by the pipeline's own
 * latency; 250 ms covers a slow acknowledgement by two orders of magnitude, while readers of
 * an invalidated key wait at most that long, once per invalidation, instead of loading.
 */
export const DEFAULT_FILL_TOMBSTONE_MS = 250;

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

/**
 * Lua: now_us(), the server's clock in µs (an integer below 2^53), for version keys. The SDK's
 * ensureVersion and the invalidator's bumpVersion both use it, so a key created by a fill
 * and one bumped by an invalidation follow one scheme.
 */
export const LUA_NOW_US = `
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
`;
