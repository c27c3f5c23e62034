/** Records a partition lost (retention passed them) or an offset history that restarted. */
export interface OffsetGap {
  partition: number;
  /** The offset the group was to read next. */
  expected: bigint;
  /** The offset the broker handed out instead. */
  received: bigint;
  kind: 'offset-out-of-range' | 'topic-recreated';
  /** When the positions were seeded: gaps found after one join are one resync, not one per partition. */
  seededAt: number;
}

/**
 * What the invalidator knows it has to read next, per partition. The regional topic is
 * written by idempotent producers without transactions, so its offsets have no holes:
 * a batch that does not start where the last one ended means records were skipped (the
 * committed offset fell below the log start while the invalidator was down, and the
 * consumer reset to the earliest record) or the offsets started over (the topic was
 * deleted and created again). Kafka's consumer resets either way without a word; this
 * turns both into a gap.
 */
export class OffsetContinuity {
  private readonly expected = new Map<number, bigint>();
  private seededAt = 0;

  /** After a (re)join: where each assigned partition's committed (or recorded) position is. */
  seed(positions: ReadonlyMap<number, bigint>, now = Date.now()): void {
    this.seededAt = now;
    this.expected.clear();
    for (const [partition, next] of positions) this.expected.set(partition, next);
  }

  check(partition: number, firstOffset: bigint): OffsetGap | undefined {
    const expected = this.expected.get(partition);
    if (expected === undefined || expected === firstOffset) return undefined;
    return {
      partition,
      expected,
      received: firstOffset,
      kind: firstOffset > expected ? 'offset-out-of-range' : 'topic-recreated',
      seededAt: this.seededAt,
    };
  }

  /** Everything up to `lastOffset` is applied (or dead-lettered), or a gap before it was repaired. */
  advance(partition: number, lastOffset: bigint): void {
    this.expected.set(partition, lastOffset + 1n);
  }
}

export function describeGap(topic: string, gap: OffsetGap): string {
  return gap.kind === 'offset-out-of-range'
    ? `${topic}[${gap.partition}]: the group was to read offset ${gap.expected}, but the log now starts at ` +
        `${gap.received} (retention passed while the invalidator was behind); records ${gap.expected}..${gap.received - 1n} were never applied`
    : `${topic}[${gap.partition}]: the group was to read offset ${gap.expected}, but the partition ends below it ` +
        `and restarts at ${gap.received} (topic deleted and created again, or its offsets reset)`;
}
