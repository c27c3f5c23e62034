// Stale reads of the driven race, judged against the writer's commit log. Pure.
//
// The writer names every value `v<seq>` with seq growing per write (the seed is seq 0), so a
// value read can be ordered against the commits of its row. A read is stale when it
// returned an older value than one whose COMMIT had returned more than `graceMs` before the
// read started: a read racing a commit, or one inside the invalidation's own latency, is
// not counted; a value the race left cached is, for as long as it stays.

/** seq of a value the writer or the seed wrote: `v12` -> 12, `s42` (seed) -> 0; null otherwise. */
export function valueSeq(value: string): number | null {
  if (/^s\d+$/.test(value)) return 0;
  const m = /^v(\d+)$/.exec(value);
  return m ? Number(m[1]) : null;
}

/** One row's commits, in commit order. */
export class CommitLog {
  private readonly byId = new Map<number, { seq: number; t: number }[]>();

  committed(id: number, value: string, t: number): void {
    const seq = valueSeq(value);
    if (seq === null) throw new Error(`CommitLog: ${value} is not a writer value`);
    const list = this.byId.get(id) ?? [];
    list.push({ seq, t });
    this.byId.set(id, list);
  }

  /** The seq the row held for everyone by time t (committed before t), or 0 (the seed). */
  settledSeq(id: number, t: number): number {
    const list = this.byId.get(id);
    let seq = 0;
    if (list) for (const c of list) if (c.t <= t && c.seq > seq) seq = c.seq;
    return seq;
  }
}

export interface ReadSample {
  id: number;
  value: string;
  /** performance.now() when the read started */
  t: number;
}

export function countStaleReads(log: CommitLog, reads: readonly ReadSample[], graceMs: number): number {
  let stale = 0;
  for (const r of reads) {
    const seq = valueSeq(r.value);
    if (seq === null || seq < log.settledSeq(r.id, r.t - graceMs)) stale++;
  }
  return stale;
}
