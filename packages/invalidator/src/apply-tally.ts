import type { InvalidationEvent } from '@fabric/proto';
import { ApplyError, type ApplyStage } from './errors.js';

export interface EventFailure {
  /** Position in the batch given to apply(). */
  index: number;
  eventId: string;
  error: ApplyError;
}

export interface ApplyResult {
  /** Cache values that existed and were deleted (keys, tag members, pattern matches). */
  keysUnlinked: number;
  /** Fill leases deleted: fills in flight for those keys will be refused. */
  leasesRevoked: number;
  /** Stale copies (stale:{key}) deleted with their keys, so no waiter is served them. */
  staleDropped: number;
  versionsBumped: number;
  tagsExpanded: number;
  patternsScanned: number;
  /** SSCAN and SCAN pages walked by tag and pattern expansion: the steps Redis took, each bounded. */
  pagesScanned: number;
  /** Heartbeat events written through to Redis (see HEARTBEAT_KEY). */
  heartbeats: number;
  /** Events that failed; everything else in the batch is applied. */
  failed: EventFailure[];
}

export type Counter = Exclude<keyof ApplyResult, 'failed'>;

/**
 * Everything one apply() learns about its batch: the keys each event resolves to, the
 * counts and the first failure of each event. Strategies and the
 * command runner write into it; the applier reads the result once at the end.
 */
export class ApplyTally {
  private readonly counts: Record<Counter, number> = {
    keysUnlinked: 0,
    leasesRevoked: 0,
    staleDropped: 0,
    versionsBumped: 0,
    tagsExpanded: 0,
    patternsScanned: 0,
    pagesScanned: 0,
    heartbeats: 0,
  };
  private readonly failures = new Map<number, EventFailure>();
  private readonly keys = new Map<number, Set<string>>();

  constructor(private readonly events: readonly InvalidationEvent[]) {}

  /** Keys event `index` names itself (tag members and pattern matches are deleted page by page). */
  addKeys(index: number, keys: Iterable<string>): void {
    const set = this.keys.get(index) ?? new Set<string>();
    this.keys.set(index, set);
    for (const key of keys) set.add(key);
  }

  add(counter: Counter, n = 1): void {
    this.counts[counter] += n;
  }

  /** The first failure of an event is its cause; later ones (of its other commands) are dropped. */
  fail(index: number, stage: ApplyStage, cause: unknown): void {
    if (this.failures.has(index)) return;
    const eventId = this.events[index]?.id ?? '';
    this.failures.set(index, { index, eventId, error: new ApplyError(stage, eventId, cause) });
  }

  /** Keys per event still standing, in batch order: what the command plan unlinks. */
  pending(): Map<number, Set<string>> {
    return new Map([...this.keys].filter(([index]) => !this.failures.has(index)));
  }

  result(): ApplyResult {
    return { ...this.counts, failed: [...this.failures.values()].sort((a, b) => a.index - b.index) };
  }
}
