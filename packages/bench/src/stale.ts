// Keys left stale: a cached value that differs from the region's database. Pure.

export interface StaleCount {
  /** keys looked at */
  checked: number;
  /** cached, and the value differs from the database (or the row is gone) */
  stale: number;
  /** not cached (invalidated and not refilled): a miss, never stale */
  missing: number;
  /** cached and equal to the database */
  fresh: number;
  /** up to 5 stale ids, for the report */
  sample: number[];
}

/**
 * Compares each id's cached value (cached[i] belongs to ids[i]; null = not cached) with
 * the database's value of that row.
 */
export function countStale(
  ids: readonly number[],
  cached: ReadonlyArray<string | null>,
  truth: ReadonlyMap<number, string>,
): StaleCount {
  if (ids.length !== cached.length) throw new Error(`countStale: ${ids.length} ids but ${cached.length} cached values`);
  const out: StaleCount = { checked: ids.length, stale: 0, missing: 0, fresh: 0, sample: [] };
  ids.forEach((id, i) => {
    const v = cached[i];
    if (v === null || v === undefined) out.missing++;
    else if (truth.get(id) === v) out.fresh++;
    else {
      out.stale++;
      if (out.sample.length < 5) out.sample.push(id);
    }
  });
  return out;
}

/** Whether two id -> value maps hold the same entries (a replica caught up with the primary). */
export function sameValues(a: ReadonlyMap<number, string>, b: ReadonlyMap<number, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
